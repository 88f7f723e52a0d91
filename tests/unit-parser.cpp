// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
//
// Envelope parsing: strictness on what is read, tolerance of what is not.
#include <doctest/doctest.h>

#include <fiskil/webhooks.hpp>

#include <algorithm>
#include <random>
#include <ranges>
#include <string>
#include <utility>
#include <vector>

#include "sanitizers.hpp"
#include "support.hpp"

namespace fw = fiskil::webhooks;
using std::string;

namespace {

const string good_time = R"("publish_time":"2026-11-20T09:15:00.123Z")";
const string good_id = R"("message_id":"7000000000000001")";

string envelope(const string& data_members) {
  return "{" + good_time + "," + good_id + R"(,"data":{)" + data_members + "}}";
}

std::error_code parse_error(fw::parser& p, const string& body) {
  const fw::result<fw::event> ev = p.parse(body);
  return ev.error();
}

std::vector<string> collect(const fw::id_list& ids) {
  std::vector<string> out;
  for (std::string_view id : ids) out.emplace_back(id);
  return out;
}

// concat appends its parts to one string. (g++ 12 at -O3 warns, a
// -Wrestrict false positive, on "literal" + std::string temporaries.)
template <class... Parts>
string concat(const Parts&... parts) {
  string out;
  (out += ... += parts);
  return out;
}

}  // namespace

TEST_CASE("a documented event parses to its own type with every field") {
  fw::parser p;
  const string body = envelope(
      R"("consent_id":"c-1","client_id":"cl-1","end_user_id":"eu-1","event":"banking.accounts.sync.completed",)"
      R"("institution_id":"7","account_ids":["a-1","a-2","a-3"])");
  fw::result<fw::event> ev = p.parse(body);
  REQUIRE(ev.has_value());
  REQUIRE(std::holds_alternative<fw::banking_accounts_sync_completed>(*ev));
  const auto& e = std::get<fw::banking_accounts_sync_completed>(*ev);
  CHECK(e.message_id == "7000000000000001");
  CHECK(e.publish_time == *fw::parse_rfc3339("2026-11-20T09:15:00.123Z"));
  CHECK(e.consent_id == "c-1");
  CHECK(e.client_id == "cl-1");
  CHECK(e.end_user_id == "eu-1");
  CHECK(e.institution_id == "7");
  CHECK(e.account_ids.size() == 3);
  CHECK_FALSE(e.account_ids.empty());
  CHECK(collect(e.account_ids) == std::vector<string>{"a-1", "a-2", "a-3"});
  CHECK(fw::event_name(*ev) == "banking.accounts.sync.completed");
  CHECK(fw::envelope_of(*ev).message_id == "7000000000000001");
}

TEST_CASE("id lists have any length, are never truncated and are ranges") {
  fw::parser p;
  string ids;
  for (int i = 0; i < 5000; ++i) ids += concat(i ? "," : "", "\"id-", std::to_string(i), "\"");
  fw::result<fw::event> ev =
      p.parse(envelope(R"("event":"banking.payees.sync.completed","payee_ids":[)" + ids + "]"));
  REQUIRE(ev.has_value());
  const auto& e = std::get<fw::banking_payees_sync_completed>(*ev);
  CHECK(e.payee_ids.size() == 5000);
  const std::vector<string> all = collect(e.payee_ids);
  REQUIRE(all.size() == 5000);
  CHECK(all.front() == "id-0");
  CHECK(all.back() == "id-4999");
  static_assert(std::ranges::forward_range<fw::id_list>);
  CHECK(std::ranges::distance(e.payee_ids) == 5000);

  ev = p.parse(envelope(R"("event":"banking.balances.sync.completed","account_ids":[])"));
  REQUIRE(ev.has_value());
  CHECK(std::get<fw::banking_balances_sync_completed>(*ev).account_ids.empty());
  CHECK(collect(std::get<fw::banking_balances_sync_completed>(*ev).account_ids).empty());
}

TEST_CASE("missing and mistyped envelope fields name the field") {
  fw::parser p;
  const string data = R"("data":{"event":"consent.received"})";
  CHECK(parse_error(p, "{" + good_id + "," + data + "}") == fw::errc::publish_time_missing);
  CHECK(parse_error(p, "{" + good_time + "," + data + "}") == fw::errc::message_id_missing);
  CHECK(parse_error(p, "{" + good_time + "," + good_id + "}") == fw::errc::data_missing);
  CHECK(parse_error(p, R"({"publish_time":1700000000,)" + good_id + "," + data + "}") ==
        fw::errc::publish_time_not_string);
  CHECK(parse_error(p, R"({"publish_time":null,)" + good_id + "," + data + "}") ==
        fw::errc::publish_time_not_string);
  CHECK(parse_error(p, R"({"publish_time":"yesterday",)" + good_id + "," + data + "}") ==
        fw::errc::publish_time_malformed);
  CHECK(parse_error(p, R"({"publish_time":"2026-02-30T00:00:00Z",)" + good_id + "," + data + "}") ==
        fw::errc::publish_time_out_of_range);
  CHECK(parse_error(p, "{" + good_time + R"(,"message_id":7000000000000001,)" + data + "}") ==
        fw::errc::message_id_not_string);
  CHECK(parse_error(p, "{" + good_time + R"(,"message_id":"",)" + data + "}") == fw::errc::message_id_empty);
  CHECK(parse_error(p, "{" + good_time + "," + good_id + R"(,"data":[]})") == fw::errc::data_not_object);
  CHECK(parse_error(p, "{" + good_time + "," + good_id + R"(,"data":null})") == fw::errc::data_not_object);
}

TEST_CASE("mistyped fields of data name the field") {
  fw::parser p;
  CHECK(parse_error(p, envelope(R"("event":42)")) == fw::errc::event_not_string);
  CHECK(parse_error(p, envelope(R"("end_user_id":{})")) == fw::errc::end_user_id_not_string);
  CHECK(parse_error(p, envelope(R"("endUserId":1)")) == fw::errc::end_user_id_not_string);
  CHECK(parse_error(p, envelope(R"("client_id":true)")) == fw::errc::client_id_not_string);
  CHECK(parse_error(p, envelope(R"("institution_id":61)")) == fw::errc::institution_id_not_string);
  CHECK(parse_error(p, envelope(R"("arrangementId":[])")) == fw::errc::consent_id_not_string);
  CHECK(parse_error(p, envelope(R"("account_ids":"a-1")")) == fw::errc::account_ids_not_array);
  CHECK(parse_error(p, envelope(R"("account_ids":["a-1",2])")) == fw::errc::account_ids_element_not_string);
  CHECK(parse_error(p, envelope(R"("account_ids":[null])")) == fw::errc::account_ids_element_not_string);
  CHECK(parse_error(p, envelope(R"("payee_ids":{})")) == fw::errc::payee_ids_not_array);
  CHECK(parse_error(p, envelope(R"("payee_ids":[["p"]])")) == fw::errc::payee_ids_element_not_string);
}

TEST_CASE("a field the library reads may appear only once") {
  fw::parser p;
  const string data = R"("data":{"event":"consent.received"})";
  CHECK(parse_error(p, "{" + good_time + "," + good_time + "," + good_id + "," + data + "}") ==
        fw::errc::publish_time_duplicate);
  CHECK(parse_error(p, "{" + good_time + "," + good_id + "," + data + R"(,"message_id":"other"})") ==
        fw::errc::message_id_duplicate);
  // An escaped spelling of the same key is the same key.
  CHECK(parse_error(p, "{" + good_time + "," + good_id + R"(,"message\u005fid":"other",)" + data + "}") ==
        fw::errc::message_id_duplicate);
  CHECK(parse_error(p, "{" + good_time + "," + good_id + "," + data + "," + data + "}") ==
        fw::errc::data_duplicate);
  CHECK(parse_error(p, envelope(R"("event":"consent.received","event":"consent.revoked")")) ==
        fw::errc::event_duplicate);
  CHECK(parse_error(p, envelope(R"("end_user_id":"a","endUserId":"b")")) == fw::errc::end_user_id_duplicate);
  CHECK(parse_error(p, envelope(R"("client_id":"a","clientId":"a")")) == fw::errc::client_id_duplicate);
  CHECK(parse_error(p, envelope(R"("institutionId":"1","institution_id":"1")")) ==
        fw::errc::institution_id_duplicate);
  CHECK(parse_error(p, envelope(R"("consent_id":"a","arrangementId":"b")")) == fw::errc::consent_id_duplicate);
  CHECK(parse_error(p, envelope(R"("account_ids":[],"account_ids":["x"])")) == fw::errc::account_ids_duplicate);
  CHECK(parse_error(p, envelope(R"("payee_ids":null,"payee_ids":["x"])")) == fw::errc::payee_ids_duplicate);
  // Duplicates among fields the library does not read are not its business.
  CHECK(p.parse(envelope(R"("event":"consent.received","note":1,"note":2)")).has_value());
}

TEST_CASE("null optional fields read as absent") {
  fw::parser p;
  fw::result<fw::event> ev = p.parse(envelope(
      R"("event":"banking.accounts.sync.completed","consent_id":null,"client_id":"c","account_ids":null)"));
  REQUIRE(ev.has_value());
  const auto& e = std::get<fw::banking_accounts_sync_completed>(*ev);
  CHECK(e.consent_id.empty());
  CHECK(e.client_id == "c");
  CHECK(e.account_ids.empty());

  ev = p.parse(envelope(R"("event":null,"consent_id":"c")"));
  REQUIRE(ev.has_value());
  REQUIRE(std::holds_alternative<fw::unknown_event>(*ev));
  CHECK(std::get<fw::unknown_event>(*ev).name.empty());
}

TEST_CASE("unknown fields are ignored at every level; escapes are decoded") {
  fw::parser p;
  const string body = R"({"v":2,"publish_time":"2026-11-20T09:15:00Z","extra":{"deep":[[{"x":null}]]},)"
                      R"("message_id":"m\u002d1","data":{"note":"caf\u00e9","event":"consent.updated",)"
                      R"("end_user_id":"eu\"\\\/\n","nested":{"event":"consent.revoked"}},"z":[true]})";
  fw::result<fw::event> ev = p.parse(body);
  REQUIRE(ev.has_value());
  REQUIRE(std::holds_alternative<fw::consent_updated>(*ev));
  const auto& e = std::get<fw::consent_updated>(*ev);
  CHECK(e.message_id == "m-1");
  CHECK(e.end_user_id == "eu\"\\/\n");
}

TEST_CASE("camelCase ids of the provider's guide are accepted") {
  fw::parser p;
  fw::result<fw::event> ev = p.parse(
      R"({"publish_time":"2023-11-23T03:03:30.792Z","message_id":"9790112556309026",)"
      R"("data":{"arrangementId":"arr-1","clientId":"cl-1","endUserId":"eu-1","institutionId":"1"}})");
  REQUIRE(ev.has_value());
  REQUIRE(std::holds_alternative<fw::unknown_event>(*ev));
  const auto& e = std::get<fw::unknown_event>(*ev);
  CHECK(e.name.empty());
  CHECK(e.consent_id == "arr-1");
  CHECK(e.client_id == "cl-1");
  CHECK(e.end_user_id == "eu-1");
  CHECK(e.institution_id == "1");
}

TEST_CASE("an unknown event keeps its name and the raw text of data") {
  fw::parser p;
  const string data = R"({ "event" : "banking.loans.sync.completed", "loan":{"ids":["l\"1",2]},)"
                      R"( "account_ids":["a-1"] })";
  const string body = R"({"publish_time":"2026-11-20T09:15:00Z","da\u0074a_not":{"x":"}"},)"
                      R"("message_id":"m-1","data":)" + data + R"(,"after":[1]})";
  fw::result<fw::event> ev = p.parse(body);
  REQUIRE(ev.has_value());
  REQUIRE(std::holds_alternative<fw::unknown_event>(*ev));
  const auto& e = std::get<fw::unknown_event>(*ev);
  CHECK(e.name == "banking.loans.sync.completed");
  CHECK(e.data_json == data);
  CHECK(collect(e.account_ids) == std::vector<string>{"a-1"});
  CHECK(e.payee_ids.empty());
  // data_json parses back to an object: a user can read fields we do not know.
  simdjson::dom::parser reader;
  simdjson::dom::element back;
  REQUIRE(reader.parse(string(e.data_json)).get(back) == simdjson::SUCCESS);
  CHECK(back["loan"]["ids"].get_array().value_unsafe().size() == 2);
}

TEST_CASE("invalid JSON anywhere is refused with what is wrong") {
  fw::parser p;
  const string valid = envelope(R"("event":"consent.received")");
  CHECK(parse_error(p, "") == fw::errc::json_empty);
  CHECK(parse_error(p, " \n\t ") == fw::errc::json_empty);
  CHECK(parse_error(p, valid + " x") == fw::errc::json_trailing_content);
  CHECK(parse_error(p, valid + "{}") == fw::errc::json_trailing_content);
  CHECK(parse_error(p, valid + valid) == fw::errc::json_trailing_content);
  CHECK(parse_error(p, valid + ",") == fw::errc::json_trailing_content);
  CHECK(p.parse(valid + " \r\n\t").has_value());
  CHECK(parse_error(p, valid.substr(0, valid.size() - 1)) == fw::errc::json_syntax);
  CHECK(parse_error(p, R"({"publish_time":})") == fw::errc::json_syntax);
  // Invalid JSON inside a field the library never reads is still invalid.
  CHECK(parse_error(p, envelope(R"("event":"consent.received","x":[1,,2])")) == fw::errc::json_syntax);
  CHECK(parse_error(p, envelope(R"("event":"consent.received","x":tru)")) == fw::errc::json_syntax);
  CHECK(parse_error(p, envelope(R"("event":"consent.received","x":01)")) == fw::errc::json_invalid_number);
  CHECK(parse_error(p, envelope(R"("event":"consent.received","x":"\q")")) == fw::errc::json_invalid_string);
  CHECK(parse_error(p, envelope("\"event\":\"consent.received\",\"x\":\"a\tb\"")) == fw::errc::json_invalid_string);
  CHECK(parse_error(p, envelope("\"event\":\"consent.received\",\"x\":\"\xff\"")) == fw::errc::json_invalid_utf8);
  CHECK(parse_error(p, "[]") == fw::errc::envelope_not_object);
  CHECK(parse_error(p, "\"text\"") == fw::errc::envelope_not_object);
  CHECK(parse_error(p, "null") == fw::errc::envelope_not_object);

  fw::parser shallow(fw::parser_options{.max_depth = 8});
  CHECK(parse_error(shallow, envelope(R"("x":[[[[[[[[[[1]]]]]]]]]])")) == fw::errc::json_too_deep);
  CHECK(shallow.parse(envelope(R"("x":[1])")).has_value());
}

TEST_CASE("events point into the parser, not into the body") {
  fw::parser p;
  string body = envelope(R"("event":"banking.balances.sync.completed","consent_id":"c-9","account_ids":["a-1"])");
  fw::result<fw::event> ev = p.parse(body);
  REQUIRE(ev.has_value());
  std::fill(body.begin(), body.end(), '#');
  body.clear();
  body.shrink_to_fit();
  const auto& e = std::get<fw::banking_balances_sync_completed>(*ev);
  CHECK(e.consent_id == "c-9");
  CHECK(e.message_id == "7000000000000001");
  CHECK(collect(e.account_ids) == std::vector<string>{"a-1"});
}

TEST_CASE("body size is bounded and storage is reserved once") {
  const string body = envelope(R"("event":"consent.received","pad":")" + string(2000, 'x') + "\"");
  fw::parser small(fw::parser_options{.max_body_size = body.size() - 1, .initial_capacity = 256});
  CHECK(parse_error(small, body) == fw::errc::body_too_large);
  CHECK(small.reserve(body.size()).error() == fw::errc::body_too_large);

  fw::parser exact(fw::parser_options{.max_body_size = body.size(), .initial_capacity = 256});
  CHECK(exact.capacity() == 0);
  CHECK(exact.parse(envelope(R"("event":"consent.received")")).has_value());
  CHECK(exact.capacity() == 256);
  CHECK(exact.parse(body).has_value());  // grows to the limit, no further
  CHECK(exact.capacity() == body.size());

  fw::parser reserved;
  CHECK(reserved.reserve(100000));
  CHECK(reserved.capacity() >= 100000);
  CHECK(reserved.options().max_body_size == std::size_t{1} << 20);
}

TEST_CASE("verify_and_parse parses only authentic bytes") {
  const fw::signing_key key = *fw::signing_key::from_base64("c2lnbmluZy1rZXktZm9yLXVuaXQtdGVzdHM=");
  const fw::signing_key old_key = *fw::signing_key::from_base64("b2xkLXNpZ25pbmcta2V5");
  fw::parser p;
  const string body = envelope(R"("event":"consent.revoked","consent_id":"c-1")");
  const string signature(fw::sign(key, body).view());

  fw::result<fw::event> ev = p.verify_and_parse(key, body, signature);
  REQUIRE(ev.has_value());
  CHECK(std::holds_alternative<fw::consent_revoked>(*ev));

  // Bytes that are not JSON, with a wrong signature: refused as inauthentic,
  // never seen by the JSON parser.
  CHECK(p.verify_and_parse(key, "{not json", signature).error() == fw::errc::signature_mismatch);
  CHECK(p.verify_and_parse(key, body, "").error() == fw::errc::signature_missing);
  // Authentic bytes that are not an envelope: the envelope error.
  const string not_envelope = "[1,2,3]";
  CHECK(p.verify_and_parse(key, not_envelope, fw::sign(key, not_envelope).view()).error() ==
        fw::errc::envelope_not_object);

  const fw::keyring ring{old_key, key};
  const fw::result<fw::verified_event> by_new = p.verify_and_parse(ring, body, signature);
  REQUIRE(by_new.has_value());
  CHECK(by_new->key_index == 1);
  const fw::result<fw::verified_event> by_old = p.verify_and_parse(ring, body, fw::sign(old_key, body).view());
  REQUIRE(by_old.has_value());
  CHECK(by_old->key_index == 0);
  // A failed call reports no index (there is no state left to go stale).
  CHECK(p.verify_and_parse(ring, body, fw::sign(fw::signing_key::from_base64("c3RyYW5nZXI=").value(), body).view())
            .error() == fw::errc::signature_mismatch);

  fw::parser tiny(fw::parser_options{.max_body_size = 10});
  CHECK(tiny.verify_and_parse(key, body, signature).error() == fw::errc::body_too_large);
  CHECK(tiny.verify_and_parse(ring, body, signature).error() == fw::errc::body_too_large);
}

TEST_CASE("each class of bad body in the reference's table gets its own errc, and every body errc has a class") {
  // One row per line of docs/reference/parser.md's "Bad body" table, in its order.
  const string data = R"("data":{"event":"consent.received"})";
  const string head = "{" + good_time + "," + good_id + ",";
  struct row {
    string body;
    fw::errc expected;
  };
  const std::vector<row> rows = {
      {"", fw::errc::json_empty},
      {" \r\n\t", fw::errc::json_empty},
      {"hello", fw::errc::json_syntax},
      {"{" + good_time, fw::errc::json_syntax},
      {envelope(R"("x":[1,,2])"), fw::errc::json_syntax},
      {envelope(R"("event":"consent.received")") + " x", fw::errc::json_trailing_content},
      {envelope("") + envelope(""), fw::errc::json_trailing_content},
      {envelope("\"x\":\"caf\xe9\""), fw::errc::json_invalid_utf8},
      {envelope(R"("x":"\q")"), fw::errc::json_invalid_string},
      {envelope("\"x\":\"a\x01z\""), fw::errc::json_invalid_string},
      {envelope(R"("x":"\ud800")"), fw::errc::json_invalid_string},
      {envelope(R"("x":01)"), fw::errc::json_invalid_number},
      {envelope(R"("x":1.)"), fw::errc::json_invalid_number},
      {envelope(R"("x":1e400)"), fw::errc::json_invalid_number},
      {envelope(R"("x":100000000000000000000)"), fw::errc::json_invalid_number},
      {envelope(R"("x":)" + string(1100, '[') + string(1100, ']')), fw::errc::json_too_deep},
      {"[]", fw::errc::envelope_not_object},
      {"\"text\"", fw::errc::envelope_not_object},
      {"null", fw::errc::envelope_not_object},
      {"{" + good_id + "," + data + "}", fw::errc::publish_time_missing},
      {"{" + good_time + "," + data + "}", fw::errc::message_id_missing},
      {"{" + good_time + "," + good_id + "}", fw::errc::data_missing},
      {R"({"publish_time":1700000000,)" + good_id + "," + data + "}", fw::errc::publish_time_not_string},
      {"{" + good_time + R"(,"message_id":7,)" + data + "}", fw::errc::message_id_not_string},
      {head + R"("data":null})", fw::errc::data_not_object},
      {head + R"("data":"{}"})", fw::errc::data_not_object},
      {R"({"publish_time":"2026-11-20 09:15:00Z",)" + good_id + "," + data + "}", fw::errc::publish_time_malformed},
      {R"({"publish_time":"2026-02-29T00:00:00Z",)" + good_id + "," + data + "}", fw::errc::publish_time_out_of_range},
      {R"({"publish_time":"2026-12-31T23:59:60Z",)" + good_id + "," + data + "}", fw::errc::publish_time_out_of_range},
      {R"({"publish_time":"1600-01-01T00:00:00Z",)" + good_id + "," + data + "}", fw::errc::publish_time_out_of_range},
      {"{" + good_time + R"(,"message_id":"",)" + data + "}", fw::errc::message_id_empty},
      {head + R"("publish\u005ftime":"2026-11-20T09:15:00Z",)" + data + "}", fw::errc::publish_time_duplicate},
      {head + good_id + "," + data + "}", fw::errc::message_id_duplicate},
      {head + data + "," + data + "}", fw::errc::data_duplicate},
      {envelope(R"("event":["consent.received"])"), fw::errc::event_not_string},
      {envelope(R"("endUserId":1)"), fw::errc::end_user_id_not_string},
      {envelope(R"("client_id":false)"), fw::errc::client_id_not_string},
      {envelope(R"("institutionId":61)"), fw::errc::institution_id_not_string},
      {envelope(R"("arrangementId":{})"), fw::errc::consent_id_not_string},
      {envelope(R"("account_ids":"a-1")"), fw::errc::account_ids_not_array},
      {envelope(R"("account_ids":["a-1",{}])"), fw::errc::account_ids_element_not_string},
      {envelope(R"("payee_ids":{"0":"p"})"), fw::errc::payee_ids_not_array},
      {envelope(R"("payee_ids":[1])"), fw::errc::payee_ids_element_not_string},
      {envelope(R"("event":"consent.received","ev\u0065nt":"consent.revoked")"), fw::errc::event_duplicate},
      {envelope(R"("end_user_id":"a","endUserId":"a")"), fw::errc::end_user_id_duplicate},
      {envelope(R"("clientId":"a","clientId":"b")"), fw::errc::client_id_duplicate},
      {envelope(R"("institution_id":"1","institutionId":"2")"), fw::errc::institution_id_duplicate},
      {envelope(R"("arrangementId":"a","consent_id":"a")"), fw::errc::consent_id_duplicate},
      {envelope(R"("account_ids":null,"account_ids":[])"), fw::errc::account_ids_duplicate},
      {envelope(R"("payee_ids":[],"payee_ids":[])"), fw::errc::payee_ids_duplicate},
  };
  fw::parser p;
  std::vector<fw::errc> covered;
  for (const row& r : rows) {
    CAPTURE(r.body.substr(0, 120));
    const fw::result<fw::event> ev = p.parse(r.body);
    CHECK_FALSE(ev.has_value());
    CHECK(ev.error() == r.expected);
    CHECK(ev.error() != fw::error_kind::signature);
    covered.push_back(r.expected);
  }
  // Too large: refused before any work, and before verification too.
  fw::parser small(fw::parser_options{.max_body_size = 64});
  const string body = envelope(R"("event":"consent.received")");
  CHECK(small.parse(body).error() == fw::errc::body_too_large);
  const fw::signing_key key = *fw::signing_key::from_base64("c2lnbmluZy1rZXk=");
  CHECK(small.verify_and_parse(key, body, "not even a signature").error() == fw::errc::body_too_large);
  covered.push_back(fw::errc::body_too_large);

  // Every errc parse can return has a row above, but for out_of_memory
  // (below) and json_invalid, simdjson's catch-all, which no input has
  // produced (the parse fuzzer checks json_* errors against simdjson itself).
  // The receiver's own envelope limits (an id too long for its stores, a
  // consent event without a consent_id) are not the parser's: they are
  // tested in unit-receiver.cpp.
  for (const auto& info : fw::detail::errc_table) {
    if (info.kind != fw::error_kind::envelope && info.kind != fw::error_kind::limit) continue;
    if (info.code == fw::errc::keyring_full || info.code == fw::errc::out_of_memory ||
        info.code == fw::errc::json_invalid)
      continue;
    if (info.code == fw::errc::message_id_too_long || info.code == fw::errc::consent_id_missing ||
        info.code == fw::errc::consent_id_too_long)
      continue;
    CAPTURE(info.message);
    CHECK(std::find(covered.begin(), covered.end(), info.code) != covered.end());
  }
}

#if !defined(FW_TEST_SANITIZED)
TEST_CASE("storage that cannot be reserved is out_of_memory, and the parser stays usable") {
  // (Sanitizer runtimes abort on an impossible allocation instead of
  // returning null, so this runs in ordinary builds only.)
  fw::parser p(fw::parser_options{.max_body_size = std::size_t{1} << 62});
  CHECK(p.reserve(std::size_t{1} << 61).error() == fw::errc::out_of_memory);
  CHECK(p.capacity() == 0);
  CHECK(p.parse(envelope(R"("event":"consent.received")")).has_value());
}
#endif

TEST_CASE("data_json is the raw text of data, however the envelope is spelled") {
  // A compact envelope whose members before data are publish_time and
  // message_id is located from their sizes; anything else is walked. Both
  // ways must give the same text.
  fw::parser p;
  const string data = R"({"arrangementId":"a-1","note":"}\"{","n":[1,{"x":"]"}]})";
  const std::vector<std::pair<string, string>> around = {
      {R"({"publish_time":"2026-11-20T09:15:00Z","message_id":"m-1","data":)", "}"},
      {R"({"message_id":"m-1","publish_time":"2026-11-20T09:15:00Z","data":)", "}"},
      {R"({"publish_time":"2026-11-20T09:15:00Z","message_id":"m-1","data": )", " }\n"},
      {R"({ "publish_time":"2026-11-20T09:15:00Z","message_id":"m-1","data":)", "}"},
      {R"({"publish_time" : "2026-11-20T09:15:00Z","message_id":"m-1","data":)", "}"},
      {R"({"publish_time":"2026-11-20T09:15:00Z","message_id":"m\"1","data":)", "}"},
      {R"({"publish_time":"2026-11-20T09:15:00Z","message_id":"m\\","data":)", "}"},
      {R"({"publish_time":"2026-11-20T09:15:00Z","message_id":"a\",\"data\":{","data":)", "}"},
      {R"({"publish_time":"2026-11-20T09:15:00Z","message\u005fid":"m-1","data":)", "}"},
      {R"({"publish_time":"2026-11-20T09:15:00Z","message_id":"m-1","dat\u0061":)", "}"},
      {R"({"publish_time":"2026-11-20T09:15:00Z","x":"y","message_id":"m-1","data":)", "}"},
      {R"({"publish_time":"2026-11-20T09:15:00Z","message_id":"m-1","abcd":1,"data":)", "}"},
      {R"({"data":)", R"(,"publish_time":"2026-11-20T09:15:00Z","message_id":"m-1"})"},
      {R"({"publish_time":"2026-11-20T09:15:00Z","message_id":"m-1","data":)", R"(,"z":1})"},
  };
  for (const auto& pair : around) {
    const string body = pair.first + data + pair.second;
    CAPTURE(body);
    const fw::result<fw::event> ev = p.parse(body);
    REQUIRE(ev.has_value());
    REQUIRE(std::holds_alternative<fw::unknown_event>(*ev));
    CHECK(std::get<fw::unknown_event>(*ev).data_json == data);
  }

  // Random message ids (quotes, backslashes, \u escapes, look-alike
  // delimiters), random blanks between tokens, either member order.
  std::mt19937 random(20261120);
  const auto pick = [&random](std::size_t n) { return static_cast<std::size_t>(random() % n); };
  const string blanks[] = {"", "", "", " ", "\n\t"};
  const auto blank = [&] { return blanks[pick(5)]; };
  const string pieces[] = {"a", "7", "\"", "\\", ":", ",", "{", "}", "data", " "};
  for (int round = 0; round < 3000; ++round) {
    string id, id_json;
    for (std::size_t n = 1 + pick(8); n > 0; --n) {
      const string& piece = pieces[pick(10)];
      id += piece;
      for (const char c : piece) {
        if (c == '"' || c == '\\') {
          id_json += '\\';
          id_json += c;
        } else if (pick(8) == 0) {
          id_json += "\\u00" + string(1, "0123456789abcdef"[(c >> 4) & 0xF]) + "0123456789abcdef"[c & 0xF];
        } else {
          id_json += c;
        }
      }
    }
    const string time_member = concat("\"publish_time\"", blank(), ":", blank(), "\"2026-11-20T09:15:00Z\"");
    const string id_member = concat("\"message_id\"", blank(), ":", blank(), "\"", id_json, "\"");
    const bool id_first = pick(2) == 0;
    const string body = concat("{", blank(), id_first ? id_member : time_member, blank(), ",", blank(),
                               id_first ? time_member : id_member, blank(), ",", blank(), "\"data\"", blank(), ":",
                               blank(), data, blank(), "}", blank());
    CAPTURE(body);
    const fw::result<fw::event> ev = p.parse(body);
    REQUIRE(ev.has_value());
    REQUIRE(std::holds_alternative<fw::unknown_event>(*ev));
    const auto& e = std::get<fw::unknown_event>(*ev);
    CHECK(e.message_id == id);
    CHECK(e.data_json == data);
  }
}
