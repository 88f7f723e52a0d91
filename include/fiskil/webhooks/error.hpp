// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>

namespace fiskil::webhooks {

// errc lists every way a delivery, a signature or a secret can be refused.
// Each value has its own message naming the field or the problem, so a log
// line says what to fix without a debugger. Values are stable within a major
// version; new ones are only appended.
enum class errc : int {
  // The signing secret given to signing_key::from_base64 / from_bytes.
  secret_empty = 1,
  secret_too_long,
  secret_whitespace,
  secret_url_safe_alphabet,
  secret_invalid_character,
  secret_padding_missing,
  secret_padding_extra,
  secret_padding_misplaced,
  secret_impossible_length,
  secret_non_canonical,
  // Keyrings.
  keyring_empty,
  keyring_full,
  // The X-Fiskil-Signature header.
  signature_missing,
  signature_wrong_length,
  signature_whitespace,
  signature_url_safe_alphabet,
  signature_invalid_character,
  signature_padding_missing,
  signature_padding_extra,
  signature_padding_misplaced,
  signature_non_canonical,
  signature_mismatch,
  // The body as a whole.
  body_too_large,
  out_of_memory,
  json_empty,
  json_syntax,
  json_trailing_content,
  json_invalid_utf8,
  json_invalid_string,
  json_invalid_number,
  json_too_deep,
  json_invalid,
  envelope_not_object,
  // Envelope fields.
  publish_time_missing,
  publish_time_not_string,
  publish_time_malformed,
  publish_time_out_of_range,
  publish_time_duplicate,
  message_id_missing,
  message_id_not_string,
  message_id_empty,
  message_id_duplicate,
  data_missing,
  data_not_object,
  data_duplicate,
  // Fields of `data`.
  event_not_string,
  event_duplicate,
  end_user_id_not_string,
  end_user_id_duplicate,
  client_id_not_string,
  client_id_duplicate,
  institution_id_not_string,
  institution_id_duplicate,
  consent_id_not_string,
  consent_id_duplicate,
  account_ids_not_array,
  account_ids_element_not_string,
  account_ids_duplicate,
  payee_ids_not_array,
  payee_ids_element_not_string,
  payee_ids_duplicate,
  // Delivery semantics: freshness, idempotency, consent ordering, sources.
  publish_time_stale,
  publish_time_in_future,
  message_id_too_long,
  consent_id_missing,
  consent_id_too_long,
  window_invalid,
  store_capacity_invalid,
  address_malformed,
  allowlist_empty,
  allowlist_prefix_malformed,
  allowlist_host_bits_set,
  allowlist_too_many_ranges,
  source_not_allowed,
  // In flight: another copy, or another event of the consent, is being kept.
  message_id_in_progress,
  consent_in_progress,
};

// error_kind groups errc values by what the receiver should do about them,
// so `ec == fw::error_kind::signature` needs no list of codes. It is a
// std::error_condition enum: compare an error_code with it, do not store it.
enum class error_kind : int {
  secret = 1,   // the configured secret is unusable: fix the configuration
  signature,    // not authentic (or the header is malformed): answer 401
  envelope,     // authentic bytes that are not a valid Fiskil envelope: 400
  limit,        // the body or a store exceeded a configured bound: 413/503
  configuration,  // a configured value other than a secret is unusable (allowlist
                  // text, store sizes, windows): fix the configuration
  freshness,      // authentic, but publish_time lies outside the accepted window
  source,         // the sender's address is malformed or outside the allowlist: 403
  in_progress,    // a copy of the delivery, or another event of its consent, is
                  // being kept right now: 503 with Retry-After; a retry passes
};

namespace detail {

struct errc_info {
  errc code;
  error_kind kind;
  std::string_view message;
};

// Indexed by errc value - 1; a static_assert below keeps it complete and in
// order, so adding an errc without a message does not compile.
inline constexpr errc_info errc_table[] = {
    {errc::secret_empty, error_kind::secret, "signing secret is empty"},
    {errc::secret_too_long, error_kind::secret,
     "signing secret is longer than 1368 base64 characters (1024 bytes)"},
    {errc::secret_whitespace, error_kind::secret,
     "signing secret contains whitespace inside it; paste it as one line"},
    {errc::secret_url_safe_alphabet, error_kind::secret,
     "signing secret uses the URL-safe base64 alphabet ('-' or '_'); it must be standard base64"},
    {errc::secret_invalid_character, error_kind::secret,
     "signing secret contains a character outside the base64 alphabet"},
    {errc::secret_padding_missing, error_kind::secret,
     "signing secret lacks its trailing '=' padding"},
    {errc::secret_padding_extra, error_kind::secret,
     "signing secret has more '=' padding than its length needs"},
    {errc::secret_padding_misplaced, error_kind::secret,
     "signing secret has base64 characters after '=' padding"},
    {errc::secret_impossible_length, error_kind::secret,
     "signing secret has a length no base64 encoding can have (4n+1 characters)"},
    {errc::secret_non_canonical, error_kind::secret,
     "signing secret is not canonical base64 (unused bits of the last character are not zero)"},
    {errc::keyring_empty, error_kind::secret, "keyring holds no signing key"},
    {errc::keyring_full, error_kind::limit,
     "keyring is full; use fw::basic_keyring<N> with a larger N"},
    {errc::signature_missing, error_kind::signature,
     "X-Fiskil-Signature header is missing or empty"},
    {errc::signature_wrong_length, error_kind::signature,
     "X-Fiskil-Signature is not 44 base64 characters (the encoding of a 32-byte HMAC-SHA256)"},
    {errc::signature_whitespace, error_kind::signature,
     "X-Fiskil-Signature contains whitespace inside the base64 text"},
    {errc::signature_url_safe_alphabet, error_kind::signature,
     "X-Fiskil-Signature uses the URL-safe base64 alphabet ('-' or '_'); Fiskil sends standard base64"},
    {errc::signature_invalid_character, error_kind::signature,
     "X-Fiskil-Signature contains a character outside the base64 alphabet"},
    {errc::signature_padding_missing, error_kind::signature,
     "X-Fiskil-Signature lacks its trailing '=' padding"},
    {errc::signature_padding_extra, error_kind::signature,
     "X-Fiskil-Signature has more '=' padding than a 32-byte MAC needs"},
    {errc::signature_padding_misplaced, error_kind::signature,
     "X-Fiskil-Signature has base64 characters after '=' padding"},
    {errc::signature_non_canonical, error_kind::signature,
     "X-Fiskil-Signature is not canonical base64 (unused bits of the last character are not zero)"},
    {errc::signature_mismatch, error_kind::signature,
     "X-Fiskil-Signature does not match the body under any configured signing key"},
    {errc::body_too_large, error_kind::limit,
     "body is larger than the parser's max_body_size"},
    {errc::out_of_memory, error_kind::limit,
     "parser could not reserve memory for a body of this size"},
    {errc::json_empty, error_kind::envelope, "body is empty or only whitespace"},
    {errc::json_syntax, error_kind::envelope,
     "body is not valid JSON (misplaced or missing brace, bracket, comma, colon or literal)"},
    {errc::json_trailing_content, error_kind::envelope,
     "body has content after the end of the JSON document"},
    {errc::json_invalid_utf8, error_kind::envelope, "body is not valid UTF-8"},
    {errc::json_invalid_string, error_kind::envelope,
     "body has a malformed JSON string (bad escape or unescaped control character)"},
    {errc::json_invalid_number, error_kind::envelope, "body has a malformed JSON number"},
    {errc::json_too_deep, error_kind::envelope, "body nests arrays or objects too deeply"},
    {errc::json_invalid, error_kind::envelope, "body is not valid JSON"},
    {errc::envelope_not_object, error_kind::envelope,
     "body is valid JSON but not an object; a Fiskil envelope is {\"publish_time\",\"message_id\",\"data\"}"},
    {errc::publish_time_missing, error_kind::envelope, "envelope has no \"publish_time\""},
    {errc::publish_time_not_string, error_kind::envelope, "\"publish_time\" is not a string"},
    {errc::publish_time_malformed, error_kind::envelope,
     "\"publish_time\" is not an RFC 3339 timestamp (YYYY-MM-DDTHH:MM:SS[.fraction] then Z or +hh:mm)"},
    {errc::publish_time_out_of_range, error_kind::envelope,
     "\"publish_time\" names a date or time that does not exist, or a year outside 1678-2261"},
    {errc::publish_time_duplicate, error_kind::envelope, "\"publish_time\" appears twice in the envelope"},
    {errc::message_id_missing, error_kind::envelope, "envelope has no \"message_id\""},
    {errc::message_id_not_string, error_kind::envelope, "\"message_id\" is not a string"},
    {errc::message_id_empty, error_kind::envelope, "\"message_id\" is empty"},
    {errc::message_id_duplicate, error_kind::envelope, "\"message_id\" appears twice in the envelope"},
    {errc::data_missing, error_kind::envelope, "envelope has no \"data\""},
    {errc::data_not_object, error_kind::envelope, "\"data\" is not an object"},
    {errc::data_duplicate, error_kind::envelope, "\"data\" appears twice in the envelope"},
    {errc::event_not_string, error_kind::envelope, "\"data.event\" is not a string"},
    {errc::event_duplicate, error_kind::envelope, "\"data.event\" appears twice"},
    {errc::end_user_id_not_string, error_kind::envelope,
     "\"data.end_user_id\" (or \"endUserId\") is not a string"},
    {errc::end_user_id_duplicate, error_kind::envelope,
     "\"data.end_user_id\" is given twice (perhaps once as \"endUserId\")"},
    {errc::client_id_not_string, error_kind::envelope,
     "\"data.client_id\" (or \"clientId\") is not a string"},
    {errc::client_id_duplicate, error_kind::envelope,
     "\"data.client_id\" is given twice (perhaps once as \"clientId\")"},
    {errc::institution_id_not_string, error_kind::envelope,
     "\"data.institution_id\" (or \"institutionId\") is not a string"},
    {errc::institution_id_duplicate, error_kind::envelope,
     "\"data.institution_id\" is given twice (perhaps once as \"institutionId\")"},
    {errc::consent_id_not_string, error_kind::envelope,
     "\"data.consent_id\" (or \"arrangementId\") is not a string"},
    {errc::consent_id_duplicate, error_kind::envelope,
     "\"data.consent_id\" is given twice (perhaps once as \"arrangementId\")"},
    {errc::account_ids_not_array, error_kind::envelope, "\"data.account_ids\" is not an array"},
    {errc::account_ids_element_not_string, error_kind::envelope,
     "\"data.account_ids\" holds an element that is not a string"},
    {errc::account_ids_duplicate, error_kind::envelope, "\"data.account_ids\" appears twice"},
    {errc::payee_ids_not_array, error_kind::envelope, "\"data.payee_ids\" is not an array"},
    {errc::payee_ids_element_not_string, error_kind::envelope,
     "\"data.payee_ids\" holds an element that is not a string"},
    {errc::payee_ids_duplicate, error_kind::envelope, "\"data.payee_ids\" appears twice"},
    {errc::publish_time_stale, error_kind::freshness,
     "\"publish_time\" is older than the freshness window's max_age (a late delivery or a replay)"},
    {errc::publish_time_in_future, error_kind::freshness,
     "\"publish_time\" is further in the future than max_future_skew (a clock is wrong)"},
    {errc::message_id_too_long, error_kind::envelope,
     "\"message_id\" is longer than the idempotency store's max_id_size"},
    {errc::consent_id_missing, error_kind::envelope,
     "consent event has no \"data.consent_id\" (or \"arrangementId\") to order it by"},
    {errc::consent_id_too_long, error_kind::envelope,
     "\"data.consent_id\" is longer than the consent tracker's max_id_size"},
    {errc::window_invalid, error_kind::configuration,
     "freshness window is unusable: max_age must be over 0 and max_age, max_future_skew and retention at most 7 days"},
    {errc::store_capacity_invalid, error_kind::configuration,
     "idempotency store or consent tracker capacity is 0 or over 2^30 entries, or max_id_size is 0"},
    {errc::address_malformed, error_kind::source,
     "IP address is not dotted-decimal IPv4 or RFC 4291 IPv6 text"},
    {errc::allowlist_empty, error_kind::configuration,
     "source allowlist holds no range; write 0.0.0.0/0, ::/0 to allow every source"},
    {errc::allowlist_prefix_malformed, error_kind::configuration,
     "source allowlist entry's prefix length is not a number from 0 to 32 (IPv4) or 128 (IPv6)"},
    {errc::allowlist_host_bits_set, error_kind::configuration,
     "source allowlist entry has address bits set beyond its prefix length (10.0.0.1/8: write 10.0.0.0/8)"},
    {errc::allowlist_too_many_ranges, error_kind::configuration,
     "source allowlist has more ranges than its capacity; use fw::basic_source_allowlist<N> with a larger N"},
    {errc::source_not_allowed, error_kind::source,
     "delivery comes from an address outside the source allowlist"},
    {errc::message_id_in_progress, error_kind::in_progress,
     "a copy of this message_id was admitted and is neither confirmed nor retracted yet; retry"},
    {errc::consent_in_progress, error_kind::in_progress,
     "another event of this consent was admitted and is neither confirmed nor retracted yet; retry"},
};

inline constexpr std::size_t errc_count = std::size(errc_table);

consteval bool errc_table_is_ordered() {
  for (std::size_t i = 0; i < errc_count; ++i) {
    if (static_cast<std::size_t>(errc_table[i].code) != i + 1) return false;
  }
  return static_cast<std::size_t>(errc::consent_in_progress) == errc_count;
}
static_assert(errc_table_is_ordered(),
              "fw::errc: detail::errc_table must list every errc once, in declaration order");

inline constexpr const errc_info* find_errc(int value) noexcept {
  if (value < 1 || static_cast<std::size_t>(value) > errc_count) return nullptr;
  return &errc_table[value - 1];
}

}  // namespace detail

// error_message returns errc's message without allocating, for logging on the
// hot path. An out-of-range value gives "unknown fiskil-webhooks error".
[[nodiscard]] constexpr std::string_view error_message(errc code) noexcept {
  const detail::errc_info* info = detail::find_errc(static_cast<int>(code));
  return info != nullptr ? info->message : std::string_view{"unknown fiskil-webhooks error"};
}

namespace detail {

class kind_category_impl final : public std::error_category {
 public:
  const char* name() const noexcept override { return "fiskil-webhooks-kind"; }
  std::string message(int value) const override {
    switch (static_cast<error_kind>(value)) {
      case error_kind::secret: return "the configured signing secret is unusable";
      case error_kind::signature: return "the delivery is not authentic";
      case error_kind::envelope: return "the delivery is not a valid Fiskil envelope";
      case error_kind::limit: return "a configured limit was exceeded";
      case error_kind::configuration: return "a configured value is unusable";
      case error_kind::freshness: return "the delivery's publish_time is outside the accepted window";
      case error_kind::source: return "the delivery's source address is not allowed";
      case error_kind::in_progress: return "a copy of the delivery, or an event of its consent, is being kept";
    }
    return "unknown fiskil-webhooks error kind";
  }
};

class errc_category_impl final : public std::error_category {
 public:
  const char* name() const noexcept override { return "fiskil-webhooks"; }
  std::string message(int value) const override {
    return std::string{error_message(static_cast<errc>(value))};
  }
  std::error_condition default_error_condition(int value) const noexcept override;
};

}  // namespace detail

// error_category returns the one category of errc values. Its name is
// "fiskil-webhooks"; the object lives for the whole program.
inline const std::error_category& error_category() noexcept {
  static const detail::errc_category_impl category;
  return category;
}

// error_kind_category returns the category of error_kind conditions.
inline const std::error_category& error_kind_category() noexcept {
  static const detail::kind_category_impl category;
  return category;
}

inline std::error_code make_error_code(errc code) noexcept {
  return {static_cast<int>(code), error_category()};
}

inline std::error_condition make_error_condition(error_kind kind) noexcept {
  return {static_cast<int>(kind), error_kind_category()};
}

inline std::error_condition detail::errc_category_impl::default_error_condition(
    int value) const noexcept {
  const errc_info* info = find_errc(value);
  if (info == nullptr) return {value, *this};
  return make_error_condition(info->kind);
}

}  // namespace fiskil::webhooks

template <>
struct std::is_error_code_enum<fiskil::webhooks::errc> : std::true_type {};
template <>
struct std::is_error_condition_enum<fiskil::webhooks::error_kind> : std::true_type {};
