// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <string_view>
#include <system_error>
#include <utility>

#include <simdjson.h>

#include "detail/fixed_string.hpp"
#include "detail/json_scan.hpp"
#include "error.hpp"
#include "events.hpp"
#include "result.hpp"
#include "time.hpp"
#include "verify.hpp"

namespace fiskil::webhooks {

namespace detail {
struct parser_access;
}

// verified_event is a delivery authenticated under a keyring and parsed:
// the event, and the index in ring.keys() of the key that authenticated it
// (a gateway uses it to know when an old secret can be retired). The event's
// views point into the parser, as parse's do.
struct verified_event {
  webhooks::event event;
  std::size_t key_index = 0;
};

// parser_options bounds what a parser accepts and how much it reserves.
struct parser_options {
  // Bodies longer than this are refused with errc::body_too_large before any
  // work is done on them (also before verification in verify_and_parse).
  std::size_t max_body_size = std::size_t{1} << 20;
  // The first parse reserves room for bodies of at least this size; a
  // larger body grows the reservation (doubling, up to max_body_size). Real
  // deliveries are well under a kilobyte, 8 KB with 200 account ids.
  std::size_t initial_capacity = std::size_t{4} << 10;
  // Deepest nesting of arrays and objects accepted anywhere in the body.
  std::size_t max_depth = 1024;
};

// parser turns the raw body of a delivery into a fw::event: the whole body
// is validated as JSON, then the envelope is read strictly (each field read
// has the right type and appears once; unknown fields are ignored).
//
// Use one per thread and reuse it: storage is reserved on first use (or by
// reserve()), so that after warm-up parsing does not touch the heap. About
// 70 KiB per parser at the default initial_capacity (4 KiB); a larger body
// grows it, doubling, up to max_body_size (docs/design.md, "Parsing").
//
// Lifetime: every view in a returned event (message_id, the ids, id_list,
// data_json) points into the parser, not into the body, and stays valid until
// the parser's next parse, a move from it, or its destruction. Parsing on a
// temporary parser would dangle at once, so it does not compile.
class parser {
 public:
  explicit parser(parser_options options = {}) noexcept : options_(options) {}

  parser(const parser&) = delete;
  parser& operator=(const parser&) = delete;
  parser(parser&&) noexcept = default;
  parser& operator=(parser&&) noexcept = default;
  ~parser() = default;

  // parse parses body without verifying it. Use it only on bytes you have
  // authenticated yourself; otherwise call verify_and_parse.
  // Errors: body_too_large, out_of_memory, json_* for invalid JSON,
  // envelope_not_object, and one errc per field problem (missing, wrong
  // type, duplicate, bad timestamp).
  [[nodiscard]] result<event> parse(std::string_view body) & noexcept;
  result<event> parse(std::string_view body) && noexcept = delete;

  // verify_and_parse verifies body against signature_header (the
  // X-Fiskil-Signature value) under key, and only if it is authentic parses
  // it: unauthenticated bytes never reach the JSON parser. Errors are those of
  // fw::verify, then those of parse.
  [[nodiscard]] result<event> verify_and_parse(const signing_key& key, std::string_view body,
                                               std::string_view signature_header) & noexcept {
    if (body.size() > options_.max_body_size) return errc::body_too_large;
    if (const errc verdict = detail::check_signature(key, body, signature_header); verdict != errc{})
      return verdict;
    return parse_as<event>(body, 0);
  }
  result<event> verify_and_parse(const signing_key& key, std::string_view body,
                                 std::string_view signature_header) && noexcept = delete;

  // verify_and_parse(ring, ...) accepts a body signed by any key of ring
  // (every key is tried, see fw::verify) and returns the event with the
  // index of the key that authenticated it. Errors: keyring_empty, then
  // those of verify_and_parse(key, ...).
  template <std::size_t Capacity>
  [[nodiscard]] result<verified_event> verify_and_parse(const basic_keyring<Capacity>& ring,
                                                        std::string_view body,
                                                        std::string_view signature_header) & noexcept {
    if (body.size() > options_.max_body_size) return errc::body_too_large;
    std::size_t index = 0;
    if (const errc verdict = detail::find_matching_key(ring, body, signature_header, index); verdict != errc{})
      return verdict;
    return parse_as<verified_event>(body, index);
  }
  template <std::size_t Capacity>
  result<verified_event> verify_and_parse(const basic_keyring<Capacity>& ring, std::string_view body,
                                          std::string_view signature_header) && noexcept = delete;

  // reserve makes room for bodies up to body_size bytes now, so that the
  // first delivery does not pay for it. Errors: body_too_large beyond
  // options().max_body_size, out_of_memory.
  [[nodiscard]] status reserve(std::size_t body_size) noexcept;

  // capacity is the largest body that parses without growing storage.
  [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }
  [[nodiscard]] const parser_options& options() const noexcept { return options_; }

 private:
  struct fields;
  // parse_as is parse, building an Out: event, or verified_event carrying
  // key_index.
  template <class Out>
  [[nodiscard]] result<Out> parse_as(std::string_view body, std::size_t key_index) noexcept;
  // read_envelope and read_data return errc{} on success: no
  // std::error_code is built on the hot path.
  [[nodiscard]] static errc read_envelope(simdjson::dom::element root, fields& out) noexcept;
  [[nodiscard]] static errc read_data(simdjson::dom::object data, fields& out) noexcept;
  [[nodiscard]] static std::string_view data_json(std::string_view text, const fields& read) noexcept;
  [[nodiscard]] std::error_code json_error(simdjson::error_code error, std::size_t size) noexcept;

  parser_options options_;
  simdjson::dom::parser json_{};
  std::unique_ptr<char[]> buffer_{};
  std::size_t capacity_ = 0;
  friend struct detail::parser_access;
};

namespace detail {

// parser_access says where a parser keeps the bytes its events' views point
// into, so that tests and fuzzers can check that no view points elsewhere:
// body_copy is the padded copy of the last body (data_json points there),
// string_storage is simdjson's buffer of unescaped strings (the ids).
struct parser_access {
  static std::string_view body_copy(const parser& p) noexcept { return {p.buffer_.get(), p.capacity_}; }
  static std::string_view string_storage(const parser& p) noexcept {
    // simdjson's document::allocate reserves at least this much (it rounds up).
    const std::size_t size = p.capacity_ == 0 ? 0 : 5 * p.json_.doc.capacity() / 3 + simdjson::SIMDJSON_PADDING;
    return {reinterpret_cast<const char*>(p.json_.doc.string_buf.get()), size};
  }
};

// The fields the parser reads, with their wire spellings.
enum class field : std::uint8_t {
  none, publish_time, message_id, data,
  event, end_user_id, client_id, institution_id, consent_id, account_ids, payee_ids,
};

// key_is compares against a name known at compile time, which lets the
// compiler inline the comparison as a few integer compares (no memcmp call).
template <fixed_string Name>
inline bool key_is(std::string_view key) noexcept {
  constexpr std::size_t size = Name.view().size();
  return key.size() == size && std::memcmp(key.data(), Name.chars, size) == 0;
}

inline field find_envelope_field(std::string_view key) noexcept {
  if (key_is<"publish_time">(key)) return field::publish_time;
  if (key_is<"message_id">(key)) return field::message_id;
  if (key_is<"data">(key)) return field::data;
  return field::none;
}

// The camelCase spellings are the provider guide's (its example payload).
inline field find_data_field(std::string_view key) noexcept {
  switch (key.size()) {
    case 5: return key_is<"event">(key) ? field::event : field::none;
    case 8: return key_is<"clientId">(key) ? field::client_id : field::none;
    case 9:
      if (key_is<"client_id">(key)) return field::client_id;
      if (key_is<"payee_ids">(key)) return field::payee_ids;
      return key_is<"endUserId">(key) ? field::end_user_id : field::none;
    case 10: return key_is<"consent_id">(key) ? field::consent_id : field::none;
    case 11:
      if (key_is<"end_user_id">(key)) return field::end_user_id;
      return key_is<"account_ids">(key) ? field::account_ids : field::none;
    case 13:
      if (key_is<"institutionId">(key)) return field::institution_id;
      return key_is<"arrangementId">(key) ? field::consent_id : field::none;
    case 14: return key_is<"institution_id">(key) ? field::institution_id : field::none;
    default: return field::none;
  }
}

constexpr std::uint32_t bit(field f) noexcept { return std::uint32_t{1} << static_cast<unsigned>(f); }

struct field_errors {
  errc not_string;  // for arrays: not_array
  errc duplicate;
  errc element_not_string;
};

constexpr field_errors errors_of(field f) noexcept {
  switch (f) {
    case field::event: return {errc::event_not_string, errc::event_duplicate, {}};
    case field::end_user_id: return {errc::end_user_id_not_string, errc::end_user_id_duplicate, {}};
    case field::client_id: return {errc::client_id_not_string, errc::client_id_duplicate, {}};
    case field::institution_id:
      return {errc::institution_id_not_string, errc::institution_id_duplicate, {}};
    case field::consent_id: return {errc::consent_id_not_string, errc::consent_id_duplicate, {}};
    case field::account_ids:
      return {errc::account_ids_not_array, errc::account_ids_duplicate, errc::account_ids_element_not_string};
    case field::payee_ids:
      return {errc::payee_ids_not_array, errc::payee_ids_duplicate, errc::payee_ids_element_not_string};
    case field::publish_time: return {errc::publish_time_not_string, errc::publish_time_duplicate, {}};
    case field::message_id: return {errc::message_id_not_string, errc::message_id_duplicate, {}};
    case field::data: return {errc::data_not_object, errc::data_duplicate, {}};
    case field::none: break;
  }
  return {};
}

// fill_alternative copies the fields read into an event of type E.
template <class E, class Fields>
void fill_alternative(E& e, const Fields& f) noexcept {
  static_cast<envelope&>(e) = f.common;
  if constexpr (with_account_ids<E>) e.account_ids = f.account_ids;
  if constexpr (with_payee_ids<E>) e.payee_ids = f.payee_ids;
  if constexpr (std::same_as<E, unknown_event>) {
    e.name = f.event_name;
    e.data_json = f.data_json;
  }
}

// make_alternative builds alternative I of fw::event from the fields read,
// in place inside the result that parse returns (Out is event or
// verified_event): writing the event (some 170 bytes) once, rather than
// building it and copying it twice, saved about 15 ns a delivery.
template <class Out, class Fields, std::size_t I>
result<Out> make_alternative(const Fields& f, std::size_t key_index) noexcept {
  if constexpr (std::same_as<Out, event>) {
    (void)key_index;
    result<event> made{std::in_place, std::in_place_index<I>};
    fill_alternative(*std::get_if<I>(&*made), f);
    return made;
  } else {
    result<verified_event> made{std::in_place};
    made->key_index = key_index;
    fill_alternative(made->event.template emplace<I>(), f);
    return made;
  }
}

template <class Out, class Fields, std::size_t... I>
constexpr auto make_alternative_table(std::index_sequence<I...>) noexcept {
  return std::array<result<Out> (*)(const Fields&, std::size_t) noexcept, sizeof...(I)>{
      &make_alternative<Out, Fields, I>...};
}
}  // namespace detail

struct parser::fields {
  envelope common;
  std::string_view event_name;
  std::string_view data_json;
  id_list account_ids;
  id_list payee_ids;
  std::size_t data_ordinal = 0;  // position of "data" among the envelope's members
  std::size_t member_count = 0;  // members of the envelope
  // The members before "data", when they are all ones the parser reads
  // (publish_time, message_id): their sizes locate data_json without a scan.
  detail::field leading[2] = {};
  std::size_t leading_count = 0;
  bool leading_are_read = true;
  std::size_t publish_time_size = 0;
};

inline status parser::reserve(std::size_t body_size) noexcept {
  if (body_size > options_.max_body_size) return errc::body_too_large;
  if (body_size <= capacity_ && buffer_) return {};
  std::size_t wanted = std::max({body_size, options_.initial_capacity, capacity_ * 2});
  wanted = std::min(wanted, options_.max_body_size);
  // simdjson sizes its own buffers for at least MINIMAL_DOCUMENT_CAPACITY
  // and would grow them on first parse otherwise.
  const std::size_t json_capacity = std::max(wanted, simdjson::dom::MINIMAL_DOCUMENT_CAPACITY);
  capacity_ = 0;
  buffer_.reset(new (std::nothrow) char[wanted + simdjson::SIMDJSON_PADDING]);
  if (!buffer_) return errc::out_of_memory;
  if (json_.allocate(json_capacity, options_.max_depth) != simdjson::SUCCESS) return errc::out_of_memory;
  if (json_.doc.allocate(json_capacity) != simdjson::SUCCESS) return errc::out_of_memory;
  capacity_ = wanted;
  return {};
}

inline std::error_code parser::json_error(simdjson::error_code error, std::size_t size) noexcept {
  switch (error) {
    case simdjson::EMPTY: return errc::json_empty;
    case simdjson::UTF8_ERROR: return errc::json_invalid_utf8;
    case simdjson::STRING_ERROR:
    case simdjson::UNESCAPED_CHARS:
    case simdjson::UNCLOSED_STRING: return errc::json_invalid_string;
    case simdjson::NUMBER_ERROR:
    case simdjson::NUMBER_OUT_OF_RANGE: return errc::json_invalid_number;
    case simdjson::DEPTH_ERROR: return errc::json_too_deep;
    case simdjson::MEMALLOC:
    case simdjson::CAPACITY: return errc::out_of_memory;
    case simdjson::TAPE_ERROR:
    case simdjson::T_ATOM_ERROR:
    case simdjson::F_ATOM_ERROR:
    case simdjson::N_ATOM_ERROR: {
      // simdjson reports content after the document as a generic tape error;
      // name it when the first value alone is valid JSON.
      const std::string_view text{buffer_.get(), size};
      const std::size_t end = detail::json_scan::end_of_first_value(text);
      if (end != std::string_view::npos && detail::json_scan::skip_space(text, end) < size) {
        simdjson::dom::element prefix;
        if (json_.parse(reinterpret_cast<const std::uint8_t*>(buffer_.get()), end, false).get(prefix) ==
            simdjson::SUCCESS)
          return errc::json_trailing_content;
      }
      return errc::json_syntax;
    }
    default: return errc::json_invalid;
  }
}

inline errc parser::read_data(simdjson::dom::object data, fields& out) noexcept {
  using detail::field;
  std::uint32_t seen = 0;
  for (const auto [key, value] : data) {
    const field f = detail::find_data_field(key);
    if (f == field::none) continue;
    const detail::field_errors errors = detail::errors_of(f);
    if ((seen & detail::bit(f)) != 0) return errors.duplicate;
    seen |= detail::bit(f);
    // null stands for "absent", as Go's encoder writes a nil slice or pointer.
    if (value.is_null()) continue;

    if (f == field::account_ids || f == field::payee_ids) {
      simdjson::dom::array ids;
      if (value.get_array().get(ids) != simdjson::SUCCESS) return errors.not_string;
      std::size_t count = 0;
      for (const simdjson::dom::element id : ids) {
        if (!id.is_string()) return errors.element_not_string;
        ++count;
      }
      (f == field::account_ids ? out.account_ids : out.payee_ids) = id_list{ids, count};
      continue;
    }

    std::string_view text;
    if (value.get_string().get(text) != simdjson::SUCCESS) return errors.not_string;
    switch (f) {
      case field::event: out.event_name = text; break;
      case field::end_user_id: out.common.end_user_id = text; break;
      case field::client_id: out.common.client_id = text; break;
      case field::institution_id: out.common.institution_id = text; break;
      case field::consent_id: out.common.consent_id = text; break;
      default: break;
    }
  }
  return errc{};
}

inline errc parser::read_envelope(simdjson::dom::element root, fields& out) noexcept {
  using detail::field;
  simdjson::dom::object envelope_object;
  if (root.get_object().get(envelope_object) != simdjson::SUCCESS) return errc::envelope_not_object;

  simdjson::dom::element publish_time, message_id, data;
  std::uint32_t seen = 0;
  std::size_t ordinal = 0;
  for (const auto [key, value] : envelope_object) {
    const field f = detail::find_envelope_field(key);
    if (f != field::none) {
      if ((seen & detail::bit(f)) != 0) return detail::errors_of(f).duplicate;
      seen |= detail::bit(f);
      if (f == field::publish_time) publish_time = value;
      if (f == field::message_id) message_id = value;
      if (f == field::data) {
        data = value;
        out.data_ordinal = ordinal;
      }
    }
    if ((seen & detail::bit(field::data)) == 0) {
      // At most two: a second publish_time or message_id is refused above.
      if (f == field::publish_time || f == field::message_id)
        out.leading[out.leading_count++] = f;
      else
        out.leading_are_read = false;
    }
    ++ordinal;
  }
  out.member_count = ordinal;

  if ((seen & detail::bit(field::publish_time)) == 0) return errc::publish_time_missing;
  std::string_view time_text;
  if (publish_time.get_string().get(time_text) != simdjson::SUCCESS) return errc::publish_time_not_string;
  out.publish_time_size = time_text.size();
  const detail::rfc3339_parse time = detail::parse_rfc3339(time_text);
  if (time.error != errc{}) return time.error;
  out.common.publish_time = time.time;

  if ((seen & detail::bit(field::message_id)) == 0) return errc::message_id_missing;
  if (message_id.get_string().get(out.common.message_id) != simdjson::SUCCESS)
    return errc::message_id_not_string;
  if (out.common.message_id.empty()) return errc::message_id_empty;

  if ((seen & detail::bit(field::data)) == 0) return errc::data_missing;
  simdjson::dom::object data_object;
  if (data.get_object().get(data_object) != simdjson::SUCCESS) return errc::data_not_object;
  return read_data(data_object, out);
}

// data_json finds the raw text of the data member's value: by the sizes of
// the members before it when the body is compact (the usual case), else by
// walking the text.
inline std::string_view parser::data_json(std::string_view text, const fields& read) noexcept {
  using detail::field;
  if (read.leading_are_read && read.data_ordinal + 1 == read.member_count) {
    detail::json_scan::string_member before[2] = {};
    for (std::size_t i = 0; i < read.leading_count; ++i)
      before[i] = read.leading[i] == field::publish_time
                      ? detail::json_scan::string_member{12, read.publish_time_size}
                      : detail::json_scan::string_member{10, read.common.message_id.size()};
    const std::string_view found =
        detail::json_scan::compact_last_member_value(text, before, read.leading_count, 4);
    if (!found.empty()) return found;
  }
  return detail::json_scan::member_value(text, read.data_ordinal, read.member_count);
}

inline result<event> parser::parse(std::string_view body) & noexcept { return parse_as<event>(body, 0); }

template <class Out>
inline result<Out> parser::parse_as(std::string_view body, std::size_t key_index) noexcept {
  if (body.size() > options_.max_body_size) return errc::body_too_large;
  if (body.size() > capacity_ || !buffer_) {
    if (const status reserved = reserve(body.size()); !reserved) return reserved.error();
  }
  // simdjson reads up to SIMDJSON_PADDING bytes past the end; the copy gives
  // it that room and makes the event independent of the caller's buffer.
  if (!body.empty()) std::memcpy(buffer_.get(), body.data(), body.size());  // data() may be null
  const std::string_view text{buffer_.get(), body.size()};

  simdjson::dom::element root;
  const simdjson::error_code json_status =
      json_.parse(reinterpret_cast<const std::uint8_t*>(buffer_.get()), body.size(), false).get(root);
  if (json_status != simdjson::SUCCESS) return json_error(json_status, body.size());

  fields read;
  if (const errc error = read_envelope(root, read); error != errc{}) return error;

  const std::size_t index = read.event_name.empty() ? detail::unknown_event_index
                                                    : detail::event_index(read.event_name);
  if (index == detail::unknown_event_index) read.data_json = data_json(text, read);

  static constexpr auto make = detail::make_alternative_table<Out, fields>(
      std::make_index_sequence<std::variant_size_v<event>>{});
  return make[index](read, key_index);
}

}  // namespace fiskil::webhooks
