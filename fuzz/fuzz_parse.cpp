// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
//
// fw::parser::parse on a random body.
//
// Properties:
//  - parse is deterministic: a second parser, with a different reservation
//    (so a different growth path), gives the same outcome, field by field;
//  - it agrees with simdjson used directly on whether the body is JSON at
//    all: a json_* errc exactly when simdjson refuses the text;
//  - every successful parse survives a visit of every field, and every view
//    (ids, id list elements, names, data_json) lies inside the parser's own
//    storage, never in the caller's buffer;
//  - what it read is what an independent reader finds: message_id,
//    publish_time, the event name and type, and for unknown events the raw
//    data_json, which is the data object's text;
//  - a refusal is an envelope or limit errc with its own message.
#include <chrono>
#include <string>
#include <vector>

#include "fuzz_support.hpp"

namespace {

namespace fw = fiskil::webhooks;

bool inside(std::string_view view, std::string_view storage) {
  if (view.empty()) return true;  // an empty view may point anywhere
  const std::uintptr_t v = reinterpret_cast<std::uintptr_t>(view.data());
  const std::uintptr_t s = reinterpret_cast<std::uintptr_t>(storage.data());
  return v >= s && v + view.size() <= s + storage.size();
}

bool overlaps(std::string_view view, std::string_view other) {
  if (view.empty() || other.empty()) return false;
  const std::uintptr_t v = reinterpret_cast<std::uintptr_t>(view.data());
  const std::uintptr_t o = reinterpret_cast<std::uintptr_t>(other.data());
  return v < o + other.size() && o < v + view.size();
}

// A flat copy of everything an event holds, to compare two parses.
struct snapshot {
  std::size_t index = 0;
  std::string name;
  fw::timestamp publish_time{};
  std::vector<std::string> strings;  // envelope ids, then data_json for unknown events
  std::optional<std::vector<std::string>> account_ids, payee_ids;  // for the types that have them
  bool operator==(const snapshot&) const = default;
};

// visit reads every field of ev, checks where each view points, and returns
// the snapshot.
snapshot visit(const fw::event& ev, const fw::parser& p, std::string_view input) {
  const std::string_view body_copy = fw::detail::parser_access::body_copy(p);
  const std::string_view strings = fw::detail::parser_access::string_storage(p);
  const auto check_view = [&](std::string_view view) {
    FUZZ_CHECK(inside(view, body_copy) || inside(view, strings));
    FUZZ_CHECK(!overlaps(view, input));
  };
  snapshot out;
  out.index = ev.index();
  out.name = std::string(fw::event_name(ev));
  const bool handled = fw::dispatch(ev, [&]<class Event>(const Event& e) {
    const fw::envelope& common = e;
    out.publish_time = common.publish_time;
    for (std::string_view id : {common.message_id, common.end_user_id, common.client_id, common.institution_id,
                                common.consent_id}) {
      check_view(id);
      out.strings.emplace_back(id);
    }
    const auto read_list = [&](const fw::id_list& ids, std::optional<std::vector<std::string>>& list) {
      std::vector<std::string>& into = list.emplace();
      for (std::string_view id : ids) {
        check_view(id);
        into.emplace_back(id);
      }
      FUZZ_CHECK(into.size() == ids.size());
      FUZZ_CHECK(ids.empty() == into.empty());
    };
    if constexpr (fw::with_account_ids<Event>) read_list(e.account_ids, out.account_ids);
    if constexpr (fw::with_payee_ids<Event>) read_list(e.payee_ids, out.payee_ids);
    if constexpr (std::same_as<Event, fw::unknown_event>) {
      check_view(e.name);
      check_view(e.data_json);
      FUZZ_CHECK(fw::detail::event_index(e.name) == fw::detail::unknown_event_index);
      out.strings.emplace_back(e.data_json);
    } else {
      FUZZ_CHECK(fw::detail::event_index(Event::name) == ev.index());
    }
  });
  FUZZ_CHECK(handled);
  FUZZ_CHECK(fw::dispatch_exhaustive(ev, [](const auto& e) -> std::string_view { return e.message_id; }).data() ==
             fw::envelope_of(ev).message_id.data());
  FUZZ_CHECK(!fw::envelope_of(ev).message_id.empty());
  return out;
}

// check_against_reader compares a successful parse with what simdjson,
// used directly, finds in the same body.
void check_against_reader(const snapshot& got, simdjson::dom::element root) {
  simdjson::dom::object envelope;
  FUZZ_CHECK(root.get_object().get(envelope) == simdjson::SUCCESS);
  std::string_view message_id, publish_time;
  FUZZ_CHECK(envelope["message_id"].get_string().get(message_id) == simdjson::SUCCESS);
  FUZZ_CHECK(got.strings[0] == message_id);
  FUZZ_CHECK(envelope["publish_time"].get_string().get(publish_time) == simdjson::SUCCESS);
  const fw::result<fw::timestamp> time = fw::parse_rfc3339(publish_time);
  FUZZ_CHECK(time.has_value() && *time == got.publish_time);
  simdjson::dom::object data;
  FUZZ_CHECK(envelope["data"].get_object().get(data) == simdjson::SUCCESS);
  std::string_view event_name;
  const bool has_name = data["event"].get_string().get(event_name) == simdjson::SUCCESS;
  if (got.index != fw::detail::unknown_event_index) {
    FUZZ_CHECK(has_name && event_name == got.name);
  } else {
    FUZZ_CHECK(got.name == (has_name ? event_name : std::string_view{}));
    // data_json is the data object's own text: it parses to the same value.
    simdjson::dom::parser again;
    simdjson::dom::element reparsed;
    FUZZ_CHECK(again.parse(got.strings.back()).get(reparsed) == simdjson::SUCCESS);
    FUZZ_CHECK(reparsed.is_object());
    FUZZ_CHECK(simdjson::minify(reparsed) == simdjson::minify(data));
  }
  const auto ids_of = [&](const char* key) {
    std::vector<std::string> ids;
    simdjson::dom::array array;
    if (data[key].get_array().get(array) != simdjson::SUCCESS) return ids;
    for (simdjson::dom::element id : array) ids.emplace_back(id.get_string().value_unsafe());
    return ids;
  };
  if (got.account_ids) FUZZ_CHECK(*got.account_ids == ids_of("account_ids"));
  if (got.payee_ids) FUZZ_CHECK(*got.payee_ids == ids_of("payee_ids"));
}

bool is_json_error(std::error_code ec) {
  static constexpr fw::errc json_errors[] = {
      fw::errc::json_empty,          fw::errc::json_syntax,         fw::errc::json_trailing_content,
      fw::errc::json_invalid_utf8,   fw::errc::json_invalid_string, fw::errc::json_invalid_number,
      fw::errc::json_too_deep,       fw::errc::json_invalid};
  for (const fw::errc code : json_errors) {
    if (ec == code) return true;
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body = fuzz::as_text(data, size);
  static fw::parser reused;  // grows over the run, as a gateway's does
  fw::parser fresh(fw::parser_options{.initial_capacity = 16});

  const fw::result<fw::event> first = reused.parse(body);
  const fw::result<fw::event> second = fresh.parse(body);
  FUZZ_CHECK(first.has_value() == second.has_value());

  simdjson::dom::parser reader;
  simdjson::dom::element root;
  const bool is_json = reader.parse(body.data() == nullptr ? "" : body.data(), body.size()).get(root) ==
                       simdjson::SUCCESS;

  if (!first) {
    FUZZ_CHECK(first.error() == second.error());
    FUZZ_CHECK(first.error().category() == fw::error_category());
    FUZZ_CHECK(first.error() == fw::error_kind::envelope || first.error() == fw::error_kind::limit);
    FUZZ_CHECK(!fw::error_message(static_cast<fw::errc>(first.error().value())).empty());
    FUZZ_CHECK(is_json_error(first.error()) == !is_json);
    return 0;
  }
  FUZZ_CHECK(is_json);
  const snapshot a = visit(*first, reused, body);
  const snapshot b = visit(*second, fresh, body);
  FUZZ_CHECK(a == b);
  check_against_reader(a, root);
  return 0;
}
