// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
#include "deliveries.hpp"

#include <fiskil/webhooks.hpp>
#include <sys/random.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <utility>
#include <variant>

#include "json_text.hpp"
#include "time_text.hpp"

namespace fw = fiskil::webhooks;

namespace cli {

void random_source::fill(unsigned char* out, std::size_t size) {
  while (size > 0) {
    if (used_ == block_.size()) {
      std::size_t got = 0;
      while (got < block_.size()) {
        const ssize_t n = getrandom(block_.data() + got, block_.size() - got, 0);
        if (n < 0) {
          if (errno == EINTR) continue;
          std::fprintf(stderr, "fiskil-webhook: fatal: getrandom: %s\n", std::strerror(errno));
          std::abort();
        }
        got += static_cast<std::size_t>(n);
      }
      used_ = 0;
    }
    const std::size_t take = std::min(size, block_.size() - used_);
    std::memcpy(out, block_.data() + used_, take);
    used_ += take;
    out += take;
    size -= take;
  }
}

std::uint64_t random_source::next_u64() {
  unsigned char bytes[8];
  fill(bytes, sizeof bytes);
  std::uint64_t value = 0;
  for (const unsigned char b : bytes) value = value << 8 | b;
  return value;
}

double random_source::uniform() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }

std::uint64_t random_source::below(std::uint64_t bound) {
  const std::uint64_t limit = UINT64_MAX - UINT64_MAX % bound;  // reject the biased top
  for (;;) {
    const std::uint64_t value = next_u64();
    if (value < limit) return value % bound;
  }
}

std::string uuid_v4(random_source& random) {
  unsigned char bytes[16];
  random.fill(bytes, sizeof bytes);
  bytes[6] = static_cast<unsigned char>((bytes[6] & 0x0f) | 0x40);  // version 4
  bytes[8] = static_cast<unsigned char>((bytes[8] & 0x3f) | 0x80);  // RFC 4122 variant
  static constexpr char hex[] = "0123456789abcdef";
  std::string text;
  text.reserve(36);
  for (std::size_t i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) text += '-';
    text += hex[bytes[i] >> 4];
    text += hex[bytes[i] & 0x0f];
  }
  return text;
}

namespace {

struct event_kind {
  std::string_view name;
  bool account_ids;
  bool payee_ids;
};

template <std::size_t... I>
constexpr auto make_event_kinds(std::index_sequence<I...>) {
  return std::array<event_kind, sizeof...(I)>{
      event_kind{std::variant_alternative_t<I, fw::event>::name,
                 fw::with_account_ids<std::variant_alternative_t<I, fw::event>>,
                 fw::with_payee_ids<std::variant_alternative_t<I, fw::event>>}...};
}

// Every documented event, from the library's own types: a type added there
// is generated here without a change.
constexpr auto event_kinds = make_event_kinds(std::make_index_sequence<std::variant_size_v<fw::event> - 1>{});
static_assert(fw::documented_event<std::variant_alternative_t<event_kinds.size() - 1, fw::event>>);
static_assert(event_kinds.size() == 21, "Fiskil documents 21 event types");

const event_kind* find_kind(std::string_view name) {
  for (const event_kind& kind : event_kinds) {
    if (kind.name == name) return &kind;
  }
  return nullptr;
}

void append_list(std::string& out, std::string_view name, const std::vector<std::string>& ids) {
  out += ',';
  append_json_string(out, name);
  out += ":[";
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (i > 0) out += ',';
    append_json_string(out, ids[i]);
  }
  out += ']';
}

}  // namespace

bool is_documented_event_name(std::string_view name) { return find_kind(name) != nullptr; }

std::vector<std::string_view> documented_event_names() {
  std::vector<std::string_view> names;
  for (const event_kind& kind : event_kinds) names.push_back(kind.name);
  return names;
}

delivery_generator::delivery_generator(random_source& random, std::optional<std::string> consent_id)
    : random_(random), client_id_(ksuid_like()) {
  if (consent_id) pinned_ = new_profile(std::move(consent_id));
}

// ksuid_like is an id shaped as Fiskil's client and end-user ids: 27
// base62 characters, starting with '2' as KSUIDs of these years do.
std::string delivery_generator::ksuid_like() {
  static constexpr char base62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  std::string id = "2";
  while (id.size() < 27) id += base62[random_.below(62)];
  return id;
}

delivery_generator::consent_profile delivery_generator::new_profile(std::optional<std::string> consent_id) {
  consent_profile profile;
  profile.consent_id = consent_id ? std::move(*consent_id) : uuid_v4(random_);
  profile.end_user_id = ksuid_like();
  profile.institution_id = std::to_string(1 + random_.below(120));
  const std::uint64_t accounts = 1 + random_.below(4), payees = 1 + random_.below(3);
  for (std::uint64_t i = 0; i < accounts; ++i) profile.account_ids.push_back(uuid_v4(random_));
  for (std::uint64_t i = 0; i < payees; ++i) profile.payee_ids.push_back(uuid_v4(random_));
  return profile;
}

std::string delivery_generator::make(std::string_view name, std::string& message_id) {
  const consent_profile profile = pinned_ ? *pinned_ : new_profile(std::nullopt);
  message_id = uuid_v4(random_);
  // publish_time as Fiskil writes it: UTC, milliseconds.
  const auto now = std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
  std::string published = format_rfc3339_utc(now, fraction_digits::nanoseconds);  // ".mmm000000Z"
  published.erase(published.size() - 7, 6);

  std::string body = "{\"publish_time\":\"" + published + "\",\"message_id\":";
  append_json_string(body, message_id);
  body += ",\"data\":{\"consent_id\":";
  append_json_string(body, profile.consent_id);
  body += ",\"client_id\":";
  append_json_string(body, client_id_);
  body += ",\"end_user_id\":";
  append_json_string(body, profile.end_user_id);
  body += ",\"event\":";
  append_json_string(body, name);
  body += ",\"institution_id\":";
  append_json_string(body, profile.institution_id);
  if (const event_kind* kind = find_kind(name)) {
    if (kind->account_ids) append_list(body, "account_ids", profile.account_ids);
    if (kind->payee_ids) append_list(body, "payee_ids", profile.payee_ids);
  }
  body += "}}";
  return body;
}

}  // namespace cli
