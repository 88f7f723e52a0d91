// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
#include "consent_state.hpp"

#include <charconv>

namespace fiskil::gateway {

namespace {

void put_event(std::string& out, const consent_event& e) {
  out += std::to_string(static_cast<int>(e.change));
  out += '|';
  out += std::to_string(e.publish_time_ns);
  out += '|';
}

void put_id(std::string& out, const std::string& id) {
  out += std::to_string(id.size());
  out += ':';
  out += id;
}

// A cursor over the text being decoded; every read fails once one has.
struct reader {
  std::string_view rest;
  bool ok = true;

  bool literal(std::string_view s) {
    if (!ok || !rest.starts_with(s)) return ok = false;
    rest.remove_prefix(s.size());
    return true;
  }
  bool peek(std::string_view s) const { return ok && rest.starts_with(s); }
  std::int64_t number(char end) {
    std::int64_t n = 0;
    if (!ok) return 0;
    const auto [p, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), n);
    if (ec != std::errc{} || p == rest.data() + rest.size() || *p != end) {
      ok = false;
      return 0;
    }
    rest.remove_prefix(static_cast<std::size_t>(p - rest.data()) + 1);
    return n;
  }
  std::optional<fw::consent_change> change() {
    const std::int64_t c = number('|');
    if (!ok || c < 1 || c > 3) {
      ok = false;
      return std::nullopt;
    }
    return static_cast<fw::consent_change>(c);
  }
  std::string id() {
    const std::int64_t n = number(':');
    if (!ok || n < 0 || static_cast<std::uint64_t>(n) > rest.size()) {
      ok = false;
      return {};
    }
    std::string out(rest.substr(0, static_cast<std::size_t>(n)));
    rest.remove_prefix(static_cast<std::size_t>(n));
    return out;
  }
};

std::optional<consent_value> decode_legacy(std::string_view v) {
  if (v.size() < 4 || v[1] != ' ' || v[0] < '1' || v[0] > '3') return std::nullopt;
  const std::size_t space = v.find(' ', 2);
  if (space == std::string_view::npos) return std::nullopt;
  std::int64_t ns = 0;
  const auto [end, ec] = std::from_chars(v.data() + 2, v.data() + space, ns);
  if (ec != std::errc{} || end != v.data() + space) return std::nullopt;
  consent_value out;
  out.pending = consent_event{static_cast<fw::consent_change>(v[0] - '0'), ns, std::string(v.substr(space + 1))};
  out.pending_since_ns = 0;
  return out;
}

}  // namespace

std::string encode_consent_value(const consent_value& v) {
  std::string out = "2|C|";
  if (v.confirmed) {
    put_event(out, *v.confirmed);
    put_id(out, v.confirmed->message_id);
  } else {
    out += '-';
  }
  out += "|P|";
  if (v.pending) {
    put_event(out, *v.pending);
    out += std::to_string(v.pending_since_ns);
    out += '|';
    put_id(out, v.pending->message_id);
  } else {
    out += '-';
  }
  return out;
}

std::optional<consent_value> decode_consent_value(std::string_view text) {
  if (!text.starts_with("2|")) return decode_legacy(text);
  reader r{text};
  consent_value out;
  r.literal("2|C|");
  if (r.peek("-")) {
    r.literal("-");
  } else {
    consent_event e;
    if (const auto c = r.change()) e.change = *c;
    e.publish_time_ns = r.number('|');
    e.message_id = r.id();
    out.confirmed = std::move(e);
  }
  r.literal("|P|");
  if (r.peek("-")) {
    r.literal("-");
  } else {
    consent_event e;
    if (const auto c = r.change()) e.change = *c;
    e.publish_time_ns = r.number('|');
    out.pending_since_ns = r.number('|');
    e.message_id = r.id();
    out.pending = std::move(e);
  }
  if (!r.ok || !r.rest.empty()) return std::nullopt;
  return out;
}

consent_decision decide_consent(const std::optional<consent_value>& value, const consent_event& e, std::int64_t now_ns,
                                std::int64_t pending_bound_ns) {
  if (value && value->pending) {
    if (value->pending->message_id == e.message_id) return {consent_step::republish, stored::unavailable};
    if (now_ns - value->pending_since_ns < pending_bound_ns) return {consent_step::wait, stored::unavailable};
    return {consent_step::resolve, stored::unavailable};
  }
  const std::optional<fw::consent_state> confirmed =
      value && value->confirmed ? std::optional<fw::consent_state>(value->confirmed->state()) : std::nullopt;
  switch (fw::consent_order_after(confirmed, e.change, e.state().publish_time)) {
    case fw::consent_order::duplicate: return {consent_step::answer, stored::duplicate};
    case fw::consent_order::stale: return {consent_step::answer, stored::superseded};
    case fw::consent_order::after_revocation: return {consent_step::answer, stored::after_revocation};
    case fw::consent_order::newer: break;
  }
  return {consent_step::claim, stored::unavailable};
}

consent_value with_pending(const std::optional<consent_value>& value, const consent_event& e, std::int64_t now_ns) {
  consent_value out = value.value_or(consent_value{});
  out.pending = e;
  out.pending_since_ns = now_ns;
  return out;
}

consent_value confirm_pending(const consent_value& value) {
  consent_value out = value;
  if (out.pending) out.confirmed = std::move(out.pending);
  out.pending.reset();
  out.pending_since_ns = 0;
  return out;
}

consent_value drop_pending(const consent_value& value) {
  consent_value out = value;
  out.pending.reset();
  out.pending_since_ns = 0;
  return out;
}

}  // namespace fiskil::gateway
