// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
//
// Every call into the library's receiver is here (see admission.hpp).
#include "admission.hpp"

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <utility>
#include <variant>

#include <fiskil/webhooks.hpp>

#include "log.hpp"
#include "metrics.hpp"
#include "secret_file.hpp"

namespace fiskil::gateway {

namespace {

constexpr std::size_t outcome_count = static_cast<std::size_t>(fw::outcome::in_progress) + 1;

const std::array<std::string_view, outcome_count> outcome_name_table = [] {
  std::array<std::string_view, outcome_count> names{};
  for (std::size_t i = 0; i < outcome_count; ++i) names[i] = fw::outcome_name(static_cast<fw::outcome>(i));
  return names;
}();

template <std::size_t... I>
constexpr std::array<std::string_view, sizeof...(I) + 1> make_event_names(std::index_sequence<I...>) {
  return {std::variant_alternative_t<I, fw::event>::name..., "unknown"};
}
constexpr std::size_t event_type_count = std::variant_size_v<fw::event>;
const std::array<std::string_view, event_type_count> event_name_table =
    make_event_names(std::make_index_sequence<event_type_count - 1>{});

// read_text reads a whole small file. Returns false and sets error on failure.
bool read_text(const std::string& path, std::string& out, std::string& error) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) {
    error = path + ": " + std::strerror(errno);
    return false;
  }
  out.clear();
  char chunk[4096];
  std::size_t got = 0;
  while ((got = std::fread(chunk, 1, sizeof chunk, file)) > 0) {
    out.append(chunk, got);
    if (out.size() > (std::size_t{1} << 20)) break;
  }
  const bool failed = std::ferror(file) != 0;
  std::fclose(file);
  if (failed) {
    error = path + ": read error";
    return false;
  }
  if (out.size() > (std::size_t{1} << 20)) {
    error = path + ": larger than 1 MiB";
    return false;
  }
  return true;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t' || text.front() == '\r' || text.front() == '\n'))
    text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r' || text.back() == '\n'))
    text.remove_suffix(1);
  return text;
}

struct configuration {
  fw::keyring keys;
  fw::source_allowlist allowlist;
  bool allow_all = false;
};

// load_configuration reads the secret files (newest first) and the allowlist.
bool load_configuration(const admission_settings& settings, configuration& out, std::string& error) {
  for (const std::string& path : settings.secret_files) {
    std::string text;
    if (!read_secret_file(path, text, error)) return false;
    const fw::result<fw::signing_key> key = fw::signing_key::from_base64(trim(text));
    wipe_secret(text);
    if (!key) {
      error = path + ": not a usable secret: " + key.error().message();
      return false;
    }
    if (const fw::status added = out.keys.add(*key); !added) {
      error = path + ": " + added.error().message();
      return false;
    }
  }
  std::string ranges = settings.allow;
  for (const std::string& path : settings.allow_files) {
    std::string text;
    if (!read_text(path, text, error)) return false;
    ranges += '\n';
    ranges += text;
  }
  out.allow_all = trim(ranges).empty();
  if (out.allow_all) ranges = "0.0.0.0/0, ::/0";
  fw::allowlist_parse_error where{};
  const fw::result<fw::source_allowlist> parsed = fw::source_allowlist::parse(ranges, &where);
  if (!parsed) {
    error = "allowlist entry " + std::to_string(where.entry) + " ('" + std::string(where.text) +
            "'): " + parsed.error().message();
    return false;
  }
  out.allowlist = *parsed;
  return true;
}

fw::consent_change change_of(const fw::event& ev) {
  return std::visit(
      []<class Event>(const Event&) {
        if constexpr (fw::consent_event<Event>) {
          return fw::consent_change_of<Event>;
        } else {
          return fw::consent_change::updated;
        }
      },
      ev);
}

bool is_consent(const fw::event& ev) {
  return std::visit([](const auto& e) { return std::remove_cvref_t<decltype(e)>::family == fw::event_family::consent; }, ev);
}

fw::timestamp at_ns(std::int64_t ns) { return fw::timestamp{std::chrono::nanoseconds{ns}}; }

}  // namespace

std::int64_t now_ns() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct admission::state {
  admission_settings settings;
  fw::receiver_options options;
  fw::source_allowlist trusted_proxies;
  bool use_forwarded_for = false;
  std::unique_ptr<fw::receiver> receiver;  // the one receiver, for the process's life
  std::mutex reload_mutex;                 // one reload at a time

  bool swap_configuration(const configuration& config, std::string& error);
};

admission::admission(std::unique_ptr<state> s) noexcept : state_(std::move(s)) {}
admission::~admission() = default;

std::unique_ptr<admission> admission::create(const admission_settings& settings, std::string& error) {
  auto s = std::make_unique<state>();
  s->settings = settings;
  s->options.freshness.max_age = settings.max_age;
  s->options.freshness.max_future_skew = settings.max_future_skew;
  s->options.message_capacity = settings.message_capacity;
  s->options.consent_capacity = settings.consent_capacity;
  configuration config;
  if (!load_configuration(settings, config, error)) return nullptr;
  if (config.allow_all)
    log("warn", "allowlist_absent", {{"detail", "no --allow or --allow-file: every source address is allowed"}});
  if (!settings.trusted_proxy.empty()) {
    fw::allowlist_parse_error where{};
    const fw::result<fw::source_allowlist> proxies = fw::source_allowlist::parse(settings.trusted_proxy, &where);
    if (!proxies) {
      error = "--trusted-proxy: " + proxies.error().message();
      return nullptr;
    }
    s->trusted_proxies = *proxies;
    s->use_forwarded_for = true;
  }
  fw::result<fw::receiver> made = fw::receiver::create(config.keys, config.allowlist, s->options);
  if (!made) {
    error = "cannot build the receiver: " + made.error().message();
    return nullptr;
  }
  s->receiver = std::make_unique<fw::receiver>(std::move(*made));
  log("info", "configuration_loaded",
      {{"secrets", std::to_string(config.keys.size())}, {"allow_ranges", std::to_string(config.allowlist.size())}});
  return std::unique_ptr<admission>(new admission(std::move(s)));
}

verdict admission::admit(std::span<const unsigned char> peer_bytes, std::string_view forwarded_for, std::string_view body,
                         std::string_view signature) {
  // One parser per I/O thread, made on the thread's first delivery.
  thread_local std::unique_ptr<fw::parser> parser;
  if (!parser) {
    fw::parser_options options;
    options.max_body_size = state_->settings.max_body_size;
    options.initial_capacity = std::min<std::size_t>(options.initial_capacity, options.max_body_size);
    parser = std::make_unique<fw::parser>(options);
  }
  // A peer without an address (a socket that failed to say) is malformed,
  // hence refused as forbidden_source.
  const fw::result<fw::ip_address> peer = fw::ip_address::from_bytes(peer_bytes);
  fw::delivery_request request{peer.value_or(fw::ip_address{}), body, signature, !peer};
  if (state_->use_forwarded_for && !forwarded_for.empty() && peer && state_->trusted_proxies.contains(*peer)) {
    // The hop the trusted proxy added is the last one.
    const std::size_t comma = forwarded_for.rfind(',');
    request = fw::delivery_request::from_text(
        trim(comma == std::string_view::npos ? forwarded_for : forwarded_for.substr(comma + 1)), body, signature);
  }

  const std::int64_t received = now_ns();
  const fw::delivery d = state_->receiver->admit(*parser, request);

  verdict v;
  v.outcome = static_cast<std::size_t>(d.outcome);
  v.status = d.http_status();
  if (d.error) v.error = d.error.message();
  v.key_index = d.key_index;
  if (d.event) {
    v.event_index = d.event->index();
    v.rec.message_id = std::string(fw::envelope_of(*d.event).message_id);  // for the log of a refusal
  }
  if (d.outcome == fw::outcome::in_progress) {
    v.in_progress = true;
    v.waits_for_consent = d.error == fw::errc::consent_in_progress;
    if (v.waits_for_consent) v.rec.consent_id = std::string(fw::envelope_of(*d.event).consent_id);
  }
  if (d.outcome != fw::outcome::accepted) return v;

  // The event's views point into the parser: copy what the record needs
  // before this thread parses again.
  const fw::envelope& common = fw::envelope_of(*d.event);
  v.accepted = true;
  v.rec.message_id = std::string(common.message_id);
  v.rec.event_name = std::string(fw::event_name(*d.event));
  if (is_consent(*d.event)) {
    v.rec.consent_id = std::string(common.consent_id);
    v.rec.consent_change = change_of(*d.event);
  }
  v.rec.publish_time_ns = common.publish_time.time_since_epoch().count();
  v.rec.received_time_ns = received;
  v.rec.key_index = d.key_index.value_or(0);
  v.rec.body = std::string(body);
  v.rec.signature = std::string(signature);
  v.admitted = d;
  v.admitted.event.reset();  // its views point into this thread's parser; the token owns what retract needs
  return v;
}

bool admission::source_allowed(std::span<const unsigned char> peer_bytes) const {
  const fw::result<fw::ip_address> peer = fw::ip_address::from_bytes(peer_bytes);
  if (!peer) return false;
  if (state_->use_forwarded_for && state_->trusted_proxies.contains(*peer)) return true;
  return state_->receiver->allowlist().contains(*peer);
}

void admission::settle(verdict& v, stored what) {
  fw::receiver* receiver = state_->receiver.get();
  const record& r = v.rec;
  const fw::timestamp now = at_ns(now_ns());
  // The store answered without keeping this delivery, from its own
  // confirmed state: drop the pending consent change, and hold the id as
  // confirmed (the store has it, or has a newer state of its consent), so
  // that a copy is a duplicate.
  const auto answered_from_store = [&] {
    (void)receiver->retract(v.admitted.token);
    (void)receiver->store().remember(r.message_id, at_ns(r.publish_time_ns), now);
  };
  switch (what) {
    case stored::kept:
      (void)receiver->confirm(v.admitted.token);
      v.outcome = static_cast<std::size_t>(fw::outcome::accepted);
      break;
    case stored::duplicate:
      // The store kept this message_id before (and its consent state with
      // it): what the receiver holds pending is confirmed state.
      (void)receiver->confirm(v.admitted.token);
      v.outcome = static_cast<std::size_t>(fw::outcome::duplicate);
      break;
    case stored::superseded:
      answered_from_store();
      v.outcome = static_cast<std::size_t>(fw::outcome::superseded);
      break;
    case stored::after_revocation:
      answered_from_store();
      if (r.consent_change)  // the store has the consent revoked: so does the receiver, from now on
        (void)receiver->consents().observe(r.consent_id, fw::consent_change::revoked, at_ns(r.publish_time_ns), now);
      v.outcome = static_cast<std::size_t>(fw::outcome::after_revocation);
      break;
    case stored::unavailable:
      // Not kept: forget it, so that the provider's retry is accepted afresh.
      (void)receiver->retract(v.admitted.token);
      v.outcome = static_cast<std::size_t>(fw::outcome::unavailable);
      v.error = "the store could not keep the delivery";
      break;
  }
  v.status = fw::http_status(static_cast<fw::outcome>(v.outcome));
}

void admission::answer_copy(verdict& copy, std::optional<stored> first) {
  fw::outcome o = fw::outcome::unavailable;
  if (first) {
    switch (*first) {
      case stored::kept:
      case stored::duplicate: o = fw::outcome::duplicate; break;
      case stored::superseded: o = fw::outcome::superseded; break;
      case stored::after_revocation: o = fw::outcome::after_revocation; break;
      case stored::unavailable: break;
    }
  }
  copy.outcome = static_cast<std::size_t>(o);
  copy.status = fw::http_status(o);
  copy.error = o == fw::outcome::unavailable ? (first ? "the first copy of this delivery could not be kept; retry"
                                                      : "the first copy of this delivery was not kept within "
                                                        "--store-timeout; retry")
                                             : "";
}

// swap_configuration puts keys and allowlist into service on the running
// receiver: requests in flight finish with the configuration they started
// with, and the idempotency store and the consent tracker are kept.
bool admission::state::swap_configuration(const configuration& config, std::string& error) {
  if (const fw::status replaced = receiver->replace_keys(config.keys); !replaced) {
    error = "cannot replace the keys: " + replaced.error().message();
    return false;
  }
  receiver->replace_allowlist(config.allowlist);
  return true;
}

bool admission::reload(std::string& error) {
  const std::lock_guard one_at_a_time(state_->reload_mutex);
  configuration config;
  if (!load_configuration(state_->settings, config, error)) return false;
  if (!state_->swap_configuration(config, error)) return false;
  log("info", "configuration_reloaded",
      {{"secrets", std::to_string(config.keys.size())}, {"allow_ranges", std::to_string(config.allowlist.size())}});
  return true;
}

bool admission::reload_files(const std::vector<std::string>& secret_files, const std::string& allow,
                             const std::vector<std::string>& allow_files, std::string& error) {
  const std::lock_guard one_at_a_time(state_->reload_mutex);
  admission_settings next = state_->settings;
  next.secret_files = secret_files;
  next.allow = allow;
  next.allow_files = allow_files;
  configuration config;
  if (!load_configuration(next, config, error)) return false;
  if (!state_->swap_configuration(config, error)) return false;
  state_->settings = std::move(next);
  log("info", "configuration_reloaded",
      {{"secrets", std::to_string(config.keys.size())}, {"allow_ranges", std::to_string(config.allowlist.size())}});
  return true;
}

void admission::warm() {
  if (store_ == nullptr) return;
  store_->warm(*state_->receiver, now_ns(), state_->options.freshness.retention().count());
}

void admission::write_metrics(std::string& out) const {
  fw::receiver* receiver = state_->receiver.get();
  append_metric(out, "fiskil_gateway_message_store_evictions_total", "counter",
                "Message ids evicted from the in-memory idempotency store before their retention ended "
                "(since the gateway started); anything but 0: raise --message-capacity.",
                receiver->store().evicted_unexpired());
  append_metric(out, "fiskil_gateway_consent_tracker_evictions_total", "counter",
                "Consents evicted from the in-memory consent tracker before their retention ended "
                "(since the gateway started); anything but 0: raise --consent-capacity.",
                receiver->consents().evicted_unexpired());
}

std::chrono::nanoseconds admission::retention() const noexcept { return state_->options.freshness.retention(); }

std::span<const std::string_view> admission::outcome_names() noexcept { return outcome_name_table; }
std::span<const std::string_view> admission::event_names() noexcept { return event_name_table; }
std::size_t admission::accepted_outcome() noexcept { return static_cast<std::size_t>(fw::outcome::accepted); }

}  // namespace fiskil::gateway
