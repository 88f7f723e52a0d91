// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
#include <doctest/doctest.h>

#include <fiskil/webhooks.hpp>

#include <chrono>
#include <string>
#include <vector>

#include "sanitizers.hpp"
#include "support.hpp"

namespace fw = fiskil::webhooks;
using namespace std::chrono_literals;

namespace {

fw::timestamp at(std::string_view text) { return fw::parse_rfc3339(text).value(); }

const char* const allowed_source = "203.0.113.10";
const char* const allowlist_text = "203.0.113.0/24, 2001:db8:f15c::/48";

struct fixture {
  std::vector<test_support::sample> samples = test_support::load_samples(test_support::fixtures_dir());
  fw::signing_key key = fw::signing_key::from_base64(samples.at(0).secret).value();
  fw::signing_key rotated = fw::signing_key::from_base64(
      test_support::read_file(test_support::fixtures_dir() / "secret_rotated.b64")).value();
  fw::keyring keys{key, rotated};
  fw::source_allowlist allowlist = fw::source_allowlist::parse(allowlist_text).value();
  fw::manual_clock clock{at("2026-11-20T09:00:00Z")};
  fw::parser parser;

  fw::receiver make(fw::receiver_options options = {}) {
    options.clock = fw::clock{clock};
    return fw::receiver::create(keys, allowlist, options).value();
  }
};

// A consent event body, signed with the fixtures' secret.
struct signed_body {
  std::string body;
  std::string signature;
};

signed_body consent_body(const fw::signing_key& key, std::string_view event, std::string_view message_id,
                         std::string_view publish_time, std::string_view consent_id = "c0a5e5e0-0000-4000-8000-00000000beef") {
  signed_body made;
  made.body = std::string(R"({"publish_time":")") + std::string(publish_time) + R"(","message_id":")" +
              std::string(message_id) + R"(","data":{"event":")" + std::string(event) + R"(","consent_id":")" +
              std::string(consent_id) + R"("}})";
  made.signature = std::string(fw::sign(key, made.body).view());
  return made;
}

fw::delivery_request request(const signed_body& b, const char* source = allowed_source) {
  return fw::delivery_request::from_text(source, b.body, b.signature);
}

}  // namespace

TEST_CASE("every signed fixture is accepted once, dispatched, then a duplicate") {
  fixture f;
  REQUIRE(f.samples.size() >= 29);
  fw::receiver receiver = f.make();
  for (const auto& s : f.samples) {
    CAPTURE(s.name);
    f.clock.set(fw::timestamp{std::chrono::nanoseconds{std::stoll(s["publish_time_ns"])}} + 3s);
    const fw::delivery_request req = fw::delivery_request::from_text(allowed_source, s.body, s["signature"]);
    std::string seen_id;
    const fw::delivery first = receiver.receive(f.parser, req, [&](const auto& e) { seen_id = e.message_id; });
    CHECK(first.outcome == fw::outcome::accepted);
    CHECK(first.http_status() == 200);
    CHECK_FALSE(first.error);
    CHECK(first.handled);
    CHECK_FALSE(first.evicted_unexpired);
    CHECK(first.key_index == (s.name == "rotated_secret" ? 1u : 0u));
    REQUIRE(first.event);
    CHECK(seen_id == s["message_id"]);
    CHECK(fw::event_name(*first.event) == s["event"]);

    // The provider retries (it never saw our 200): answered 200, not handled.
    bool called = false;
    // (Through the thread_local parser this time: its delivery has no event.)
    const fw::delivery again = receiver.receive(req, [&](const auto&) { called = true; });
    CHECK(again.outcome == fw::outcome::duplicate);
    CHECK_FALSE(again.event);
    CHECK(again.http_status() == 200);
    CHECK_FALSE(again.handled);
    CHECK_FALSE(called);
  }
  CHECK(receiver.store().evicted_unexpired() == 0);
}

TEST_CASE("forbidden source: refused before the signature is even looked at") {
  fixture f;
  fw::receiver receiver = f.make();
  const auto& s = f.samples.at(0);
  f.clock.set(fw::timestamp{std::chrono::nanoseconds{std::stoll(s["publish_time_ns"])}});
  for (const char* source : {"198.51.100.1", "203.0.114.10", "2001:db8:f15d::1", "::ffff:198.51.100.1"}) {
    CAPTURE(source);
    const fw::delivery d = receiver.admit(f.parser, fw::delivery_request::from_text(source, s.body, s["signature"]));
    CHECK(d.outcome == fw::outcome::forbidden_source);
    CHECK(d.http_status() == 403);
    CHECK(d.error == fw::errc::source_not_allowed);
    CHECK_FALSE(d.event);
  }
  for (const char* source : {"", "not an address", "203.0.113.10:443", "[2001:db8:f15c::1]"}) {
    CAPTURE(source);
    const fw::delivery d = receiver.admit(f.parser, fw::delivery_request::from_text(source, s.body, s["signature"]));
    CHECK(d.outcome == fw::outcome::forbidden_source);
    CHECK(d.error == fw::errc::address_malformed);
  }
  // Allowed sources in every form, including IPv4-mapped from a dual-stack socket.
  CHECK(receiver.confirm(receiver.admit(f.parser, fw::delivery_request::from_text("::ffff:203.0.113.10", s.body, s["signature"]))));
  CHECK(receiver.admit(f.parser, fw::delivery_request::from_text("2001:db8:f15c::9", s.body, s["signature"])).outcome == fw::outcome::duplicate);
  // A forbidden source with a bad signature too is reported as forbidden.
  CHECK(receiver.admit(f.parser, fw::delivery_request::from_text("198.51.100.1", s.body, "bad")).outcome == fw::outcome::forbidden_source);
}

TEST_CASE("bad signature: tampered body, wrong key, malformed or missing header") {
  fixture f;
  fw::receiver receiver = f.make();
  const auto& s = f.samples.at(0);
  f.clock.set(fw::timestamp{std::chrono::nanoseconds{std::stoll(s["publish_time_ns"])}});
  const std::string tampered = s.body + " ";
  const fw::signing_key other = fw::signing_key::from_base64("b3RoZXIgc2VjcmV0").value();
  const std::string other_signature{fw::sign(other, s.body).view()};
  const struct {
    std::string_view body, signature;
    fw::errc code;
  } cases[] = {
      {tampered, s["signature"], fw::errc::signature_mismatch},
      {s.body, other_signature, fw::errc::signature_mismatch},
      {s.body, "", fw::errc::signature_missing},
      {s.body, "c2lnbmF0dXJl", fw::errc::signature_wrong_length},
  };
  for (const auto& c : cases) {
    const fw::delivery d = receiver.admit(f.parser, fw::delivery_request::from_text(allowed_source, c.body, c.signature));
    CHECK(d.outcome == fw::outcome::bad_signature);
    CHECK(d.http_status() == 401);
    CHECK(d.error == c.code);
    CHECK_FALSE(d.event);
  }
  // None of them was recorded: the genuine delivery is still a first sighting.
  CHECK(receiver.confirm(receiver.admit(f.parser, fw::delivery_request::from_text(allowed_source, s.body, s["signature"]))));
}

TEST_CASE("bad envelope: authentic bytes that cannot be processed") {
  fixture f;
  fw::receiver receiver = f.make();
  f.clock.set(at("2026-11-20T09:00:00Z"));
  const auto sign = [&](std::string body) { return signed_body{body, std::string(fw::sign(f.key, body).view())}; };
  const struct {
    signed_body body;
    fw::errc code;
  } cases[] = {
      {sign(R"({"message_id":"m1","data":{}})"), fw::errc::publish_time_missing},
      {sign("[]"), fw::errc::envelope_not_object},
      {sign(R"({"publish_time":"2026-11-20T09:00:00Z","message_id":"m2","data":{}} x)"), fw::errc::json_trailing_content},
      {sign(R"({"publish_time":"2026-11-20T09:00:00Z","message_id":")" + std::string(257, '7') + R"(","data":{}})"),
       fw::errc::message_id_too_long},
      {sign(R"({"publish_time":"2026-11-20T09:00:00Z","message_id":"m3","data":{"event":"consent.revoked"}})"),
       fw::errc::consent_id_missing},
      {consent_body(f.key, "consent.updated", "m4", "2026-11-20T09:00:00Z", std::string(257, 'c')),
       fw::errc::consent_id_too_long},
  };
  for (const auto& c : cases) {
    CAPTURE(c.body.body);
    const fw::delivery d = receiver.admit(f.parser, request(c.body));
    CHECK(d.outcome == fw::outcome::bad_envelope);
    CHECK(d.http_status() == 400);
    CHECK(d.error == c.code);
    // Refused deliveries are not recorded, so a retry gets the same answer
    // rather than "duplicate".
    CHECK(receiver.admit(f.parser, request(c.body)).outcome == fw::outcome::bad_envelope);
  }
}

TEST_CASE("too large") {
  fixture f;
  fw::receiver receiver = f.make();
  const std::string huge((std::size_t{1} << 20) + 1, ' ');
  const fw::delivery d = receiver.admit(f.parser, fw::delivery_request::from_text(allowed_source, huge, fw::sign(f.key, huge).view()));
  CHECK(d.outcome == fw::outcome::too_large);
  CHECK(d.http_status() == 413);
  CHECK(d.error == fw::errc::body_too_large);
}

#if !defined(FW_TEST_SANITIZED)
TEST_CASE("unavailable when the parser cannot reserve memory") {
  // (Sanitizer runtimes abort on an impossible allocation instead of
  // returning null, so this runs in ordinary builds only.)
  fixture f;
  fw::receiver receiver = f.make();
  // A parser allowed bodies of an exabyte and asked to reserve a petabyte
  // up front cannot get the memory.
  fw::parser greedy{{.max_body_size = std::size_t{1} << 60, .initial_capacity = std::size_t{1} << 50}};
  const auto& s = f.samples.at(0);
  const fw::delivery no_memory = receiver.admit(greedy, fw::delivery_request::from_text(allowed_source, s.body, s["signature"]));
  CHECK(no_memory.outcome == fw::outcome::unavailable);
  CHECK(no_memory.http_status() == 503);
  CHECK(no_memory.error == fw::errc::out_of_memory);
}
#endif

TEST_CASE("stale and too early, at the exact window boundaries") {
  fixture f;
  fw::receiver receiver = f.make();
  const signed_body b = consent_body(f.key, "consent.received", "m-window", "2026-11-20T09:00:00Z");
  const fw::timestamp published = at("2026-11-20T09:00:00Z");

  f.clock.set(published + 65min + 1ns);
  fw::delivery d = receiver.admit(f.parser, request(b));
  CHECK(d.outcome == fw::outcome::stale);
  CHECK(d.http_status() == 422);
  CHECK(d.error == fw::errc::publish_time_stale);
  CHECK(d.event);  // authentic: the event is there for logging

  f.clock.set(published - 5min - 1ns);
  d = receiver.admit(f.parser, request(b));
  CHECK(d.outcome == fw::outcome::too_early);
  CHECK(d.http_status() == 422);
  CHECK(d.error == fw::errc::publish_time_in_future);

  // Neither refusal recorded the id: at exactly the boundaries it is accepted
  // once, then a duplicate.
  f.clock.set(published - 5min);
  CHECK(receiver.confirm(receiver.admit(f.parser, request(b))));
  f.clock.set(published + 65min);
  CHECK(receiver.admit(f.parser, request(b)).outcome == fw::outcome::duplicate);
  // A replay after the window: stale, never accepted again.
  f.clock.set(published + 65min + 1ns);
  CHECK(receiver.admit(f.parser, request(b)).outcome == fw::outcome::stale);
}

TEST_CASE("a clock going backwards within the skew cannot reopen a replay") {
  fixture f;
  fw::receiver receiver = f.make();
  const fw::timestamp published = at("2026-11-20T09:00:00Z");
  const signed_body b = consent_body(f.key, "consent.received", "m-replay", "2026-11-20T09:00:00Z", "c-replay");
  f.clock.set(published + 1min);
  CHECK(receiver.confirm(receiver.admit(f.parser, request(b))));
  // Much later, other traffic reuses expired room; the id's retention is
  // max_age + skew, so it is still held at publish + 70 min.
  f.clock.set(published + 70min);
  CHECK(receiver.store().contains("m-replay", f.clock.now()));
  // The clock steps back by up to the skew (5 min): the replay looks fresh
  // again at 65 min, and is still a duplicate.
  f.clock.set(published + 65min);
  CHECK(receiver.admit(f.parser, request(b)).outcome == fw::outcome::duplicate);
  f.clock.set(published + 30min);
  CHECK(receiver.admit(f.parser, request(b)).outcome == fw::outcome::duplicate);
}

TEST_CASE("consent events out of order: superseded and after_revocation answer 200") {
  fixture f;
  fw::receiver receiver = f.make();
  f.clock.set(at("2026-11-20T10:15:00Z"));
  const signed_body received = consent_body(f.key, "consent.received", "c-1", "2026-11-20T09:30:00Z");
  const signed_body updated_late = consent_body(f.key, "consent.updated", "c-2", "2026-11-20T09:40:00Z");
  const signed_body updated_early = consent_body(f.key, "consent.updated", "c-3", "2026-11-20T09:50:00Z");
  const signed_body revoked = consent_body(f.key, "consent.revoked", "c-4", "2026-11-20T10:00:00Z");
  const signed_body updated_after = consent_body(f.key, "consent.updated", "c-5", "2026-11-20T10:10:00Z");

  int applied = 0;
  const auto handle = [&](fw::consent_event auto const&) { ++applied; };
  CHECK(receiver.receive(request(received), handle).outcome == fw::outcome::accepted);
  CHECK(receiver.receive(request(updated_early), handle).outcome == fw::outcome::accepted);
  const fw::delivery late = receiver.receive(request(updated_late), handle);
  CHECK(late.outcome == fw::outcome::superseded);
  CHECK(late.http_status() == 200);
  CHECK_FALSE(late.error);
  CHECK_FALSE(late.handled);
  CHECK(receiver.receive(request(revoked), handle).outcome == fw::outcome::accepted);
  const fw::delivery resurrect = receiver.receive(request(updated_after), handle);
  CHECK(resurrect.outcome == fw::outcome::after_revocation);
  CHECK(resurrect.http_status() == 200);
  CHECK_FALSE(resurrect.handled);
  CHECK(applied == 3);
  // Retries of the ignored ones are duplicates of their message_ids.
  CHECK(receiver.receive(request(updated_late), handle).outcome == fw::outcome::duplicate);
  CHECK(receiver.receive(request(updated_after), handle).outcome == fw::outcome::duplicate);
  // The same consent event re-published under a new message_id is a
  // duplicate for the tracker.
  const signed_body republished = consent_body(f.key, "consent.revoked", "c-6", "2026-11-20T10:00:00Z");
  CHECK(receiver.receive(request(republished), handle).outcome == fw::outcome::duplicate);
  CHECK(applied == 3);
}

TEST_CASE("retract lets the provider's retry be accepted again") {
  fixture f;
  fw::receiver receiver = f.make();
  f.clock.set(at("2026-11-20T10:30:00Z"));
  const signed_body received = consent_body(f.key, "consent.received", "r-1", "2026-11-20T10:00:00Z");
  const signed_body revoked = consent_body(f.key, "consent.revoked", "r-2", "2026-11-20T10:10:00Z");
  const fw::delivery kept = receiver.admit(f.parser, request(received));
  CHECK(kept.outcome == fw::outcome::accepted);
  CHECK(receiver.confirm(kept));
  const fw::delivery failed = receiver.admit(f.parser, request(revoked));
  REQUIRE(failed.outcome == fw::outcome::accepted);
  // The gateway could not act on it: retract, answer 503; the retry is new.
  CHECK(receiver.retract(failed));
  CHECK(receiver.consents().latest("c0a5e5e0-0000-4000-8000-00000000beef")->change == fw::consent_change::received);
  const fw::delivery retry = receiver.admit(f.parser, request(revoked));
  CHECK(retry.outcome == fw::outcome::accepted);
  CHECK(receiver.confirm(retry));
  CHECK(receiver.admit(f.parser, request(revoked)).outcome == fw::outcome::duplicate);
  // Only accepted deliveries can be retracted.
  CHECK_FALSE(receiver.retract(receiver.admit(f.parser, request(revoked))));
}

TEST_CASE("an event no handler takes is accepted, not handled") {
  fixture f;
  fw::receiver receiver = f.make();
  for (const auto& s : f.samples) {
    if (s.name != "unknown_event_type") continue;
    f.clock.set(fw::timestamp{std::chrono::nanoseconds{std::stoll(s["publish_time_ns"])}});
    fw::parser own;  // a parser of the caller's instead of the thread_local one
    const fw::delivery d = receiver.receive(own, fw::delivery_request::from_text(allowed_source, s.body, s["signature"]),
                                            [](const fw::consent_revoked&) {});
    CHECK(d.outcome == fw::outcome::accepted);
    CHECK_FALSE(d.handled);
    CHECK(fw::event_name(*d.event) == "banking.loans.sync.completed");
  }
}

TEST_CASE("a receiver too small for its traffic says so") {
  fixture f;
  fw::receiver receiver = f.make({.message_capacity = 15});
  f.clock.set(at("2026-11-20T09:30:00Z"));
  bool reported = false;
  for (int i = 0; i < 16; ++i) {
    const signed_body b = consent_body(f.key, "consent.updated", "small-" + std::to_string(i),
                                       "2026-11-20T09:00:" + std::string(i < 10 ? "0" : "") + std::to_string(i) + "Z",
                                       "consent-" + std::to_string(i));
    const fw::delivery d = receiver.admit(f.parser, request(b));
    CHECK(d.outcome == fw::outcome::accepted);
    reported = reported || d.evicted_unexpired;
  }
  CHECK(reported);
  CHECK(receiver.store().evicted_unexpired() == 1);
}

TEST_CASE("the outcome to HTTP status table") {
  const struct {
    fw::outcome o;
    int status;
    const char* name;
  } table[] = {
      {fw::outcome::accepted, 200, "accepted"},
      {fw::outcome::duplicate, 200, "duplicate"},
      {fw::outcome::superseded, 200, "superseded"},
      {fw::outcome::after_revocation, 200, "after_revocation"},
      {fw::outcome::stale, 422, "stale"},
      {fw::outcome::too_early, 422, "too_early"},
      {fw::outcome::forbidden_source, 403, "forbidden_source"},
      {fw::outcome::bad_signature, 401, "bad_signature"},
      {fw::outcome::bad_envelope, 400, "bad_envelope"},
      {fw::outcome::too_large, 413, "too_large"},
      {fw::outcome::unavailable, 503, "unavailable"},
  };
  for (const auto& row : table) {
    CHECK(fw::http_status(row.o) == row.status);
    CHECK(fw::outcome_name(row.o) == row.name);
  }
  static_assert(fw::http_status(fw::outcome::duplicate) == 200);
}

TEST_CASE("create refuses unusable configuration") {
  fixture f;
  CHECK(fw::receiver::create(fw::keyring{}, f.allowlist).error() == fw::errc::keyring_empty);
  CHECK(fw::receiver::create(f.keys, f.allowlist, {.freshness = {.max_age = 0ns}}).error() == fw::errc::window_invalid);
  CHECK(fw::receiver::create(f.keys, f.allowlist, {.message_capacity = 0}).error() == fw::errc::store_capacity_invalid);
  CHECK(fw::receiver::create(f.keys, f.allowlist, {.consent_capacity = 0}).error() == fw::errc::store_capacity_invalid);
  // The stores remember ids for the window's retention.
  fw::receiver r = fw::receiver::create(f.keys, f.allowlist, {.freshness = {.max_age = 10min, .max_future_skew = 1min}}).value();
  CHECK(r.store().retention() == 11min);
  CHECK(r.freshness().max_age == 10min);
  CHECK(r.keys().size() == 2);
  CHECK(r.allowlist().size() == 2);
}

TEST_CASE("delivery_request::from_text: an address, or a request admit refuses as malformed") {
  const fw::delivery_request good = fw::delivery_request::from_text("2001:db8::7", "b", "s");
  CHECK_FALSE(good.source_malformed);
  CHECK(good.source == fw::ip_address::parse("2001:db8::7").value());
  CHECK(good.body == "b");
  CHECK(good.signature == "s");
  const fw::delivery_request bad = fw::delivery_request::from_text("203.0.113.7:443", "b", "s");
  CHECK(bad.source_malformed);
}
