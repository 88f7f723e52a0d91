// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
//
// In-flight deliveries: admit leaves a delivery pending; confirm and retract
// settle it. A copy of a pending delivery is in_progress, never duplicate,
// and consent verdicts rest only on confirmed state.
#include <doctest/doctest.h>

#include <fiskil/webhooks.hpp>

#include <string>

namespace fw = fiskil::webhooks;

namespace {

fw::timestamp at(std::string_view text) { return fw::parse_rfc3339(text).value(); }

struct fixture {
  fw::signing_key key = fw::signing_key::from_base64("aW4tZmxpZ2h0LXRlc3Qta2V5").value();
  fw::manual_clock clock{at("2026-11-20T10:30:00Z")};
  fw::receiver receiver = fw::receiver::create(fw::keyring{key}, fw::source_allowlist::parse("0.0.0.0/0").value(),
                                               {.clock = fw::clock{clock}})
                              .value();
  fw::parser parser;

  struct signed_body {
    std::string body, signature;
  };
  signed_body make(std::string_view event, std::string_view message_id, std::string_view publish_time,
                   std::string_view consent_id = "c-1") const {
    signed_body made;
    made.body = R"({"publish_time":")" + std::string(publish_time) + R"(","message_id":")" + std::string(message_id) +
                R"(","data":{"event":")" + std::string(event) + R"(","consent_id":")" + std::string(consent_id) +
                R"(","end_user_id":"u"}})";
    made.signature = std::string(fw::sign(key, made.body).view());
    return made;
  }
  fw::delivery admit(const signed_body& b) {
    return receiver.admit(parser, fw::delivery_request::from_text("203.0.113.7", b.body, b.signature));
  }
};

}  // namespace

TEST_CASE("a copy of a pending delivery is in_progress (503), never duplicate") {
  fixture f;
  const auto a = f.make("banking.accounts.sync.completed", "m-1", "2026-11-20T10:00:00Z");
  const fw::delivery first = f.admit(a);
  REQUIRE(first.outcome == fw::outcome::accepted);
  CHECK(f.receiver.store().pending("m-1"));

  const fw::delivery copy = f.admit(a);
  CHECK(copy.outcome == fw::outcome::in_progress);
  CHECK(copy.http_status() == 503);
  CHECK(copy.error == fw::errc::message_id_in_progress);
  CHECK(copy.error == fw::error_kind::in_progress);
  CHECK_FALSE(f.receiver.confirm(copy));  // nothing of the copy's to settle
  CHECK(f.receiver.store().pending("m-1"));

  // The first copy is kept: copies are duplicates from now on.
  CHECK(f.receiver.confirm(first));
  CHECK_FALSE(f.receiver.store().pending("m-1"));
  CHECK(f.admit(a).outcome == fw::outcome::duplicate);
  CHECK_FALSE(f.receiver.confirm(first));  // once
  CHECK_FALSE(f.receiver.retract(first));  // a retract after confirm changes nothing
  CHECK(f.admit(a).outcome == fw::outcome::duplicate);
}

TEST_CASE("retract of a pending delivery: the copy after it is accepted afresh") {
  fixture f;
  const auto a = f.make("banking.accounts.sync.completed", "m-2", "2026-11-20T10:00:00Z");
  const fw::delivery first = f.admit(a);
  REQUIRE(first.outcome == fw::outcome::accepted);
  CHECK(f.admit(a).outcome == fw::outcome::in_progress);
  CHECK(f.receiver.retract(first.token));
  CHECK_FALSE(f.receiver.retract(first.token));
  CHECK_FALSE(f.receiver.store().contains("m-2", f.clock.now()));
  const fw::delivery retry = f.admit(a);
  CHECK(retry.outcome == fw::outcome::accepted);
  CHECK(f.receiver.confirm(retry.token));
}

TEST_CASE("consent verdicts rest only on confirmed state") {
  fixture f;
  const auto received = f.make("consent.received", "m-r", "2026-11-20T10:00:00Z");
  const auto updated = f.make("consent.updated", "m-u", "2026-11-20T10:05:00Z");
  const auto updated_again = f.make("consent.updated", "m-u2", "2026-11-20T10:05:00Z");  // same change, other id
  const auto revoked = f.make("consent.revoked", "m-v", "2026-11-20T10:10:00Z");

  const fw::delivery r = f.admit(received);
  REQUIRE(r.outcome == fw::outcome::accepted);
  // While the consent's change is pending, no other event of it is judged
  // against it: not superseded, not duplicate, not after_revocation.
  const fw::delivery blocked = f.admit(updated);
  CHECK(blocked.outcome == fw::outcome::in_progress);
  CHECK(blocked.error == fw::errc::consent_in_progress);
  // ... and its id was not kept, so the provider's retry is judged afresh.
  CHECK_FALSE(f.receiver.store().contains("m-u", f.clock.now()));
  CHECK_FALSE(f.receiver.consents().latest("c-1"));
  CHECK(f.receiver.consents().pending("c-1")->change == fw::consent_change::received);

  REQUIRE(f.receiver.confirm(r));
  CHECK(f.receiver.consents().latest("c-1")->change == fw::consent_change::received);
  const fw::delivery u = f.admit(updated);
  REQUIRE(u.outcome == fw::outcome::accepted);
  // The same change under another id is not "duplicate" of a pending one.
  CHECK(f.admit(updated_again).outcome == fw::outcome::in_progress);
  REQUIRE(f.receiver.confirm(u));
  CHECK(f.admit(updated_again).outcome == fw::outcome::duplicate);
  // A duplicate decided on confirmed state confirms its own id: a copy is a
  // duplicate too, never in_progress.
  CHECK(f.admit(updated_again).outcome == fw::outcome::duplicate);

  const fw::delivery v = f.admit(revoked);
  REQUIRE(v.outcome == fw::outcome::accepted);
  CHECK(f.receiver.retract(v));  // not kept: the consent is back to "updated"
  CHECK(f.receiver.consents().latest("c-1")->change == fw::consent_change::updated);
  CHECK_FALSE(f.receiver.consents().pending("c-1"));
  const fw::delivery v2 = f.admit(revoked);
  REQUIRE(v2.outcome == fw::outcome::accepted);
  REQUIRE(f.receiver.confirm(v2));
  const auto late = f.make("consent.updated", "m-late", "2026-11-20T10:20:00Z");
  CHECK(f.admit(late).outcome == fw::outcome::after_revocation);
  CHECK(f.admit(late).outcome == fw::outcome::duplicate);
}

TEST_CASE("two consent events failing in one batch: retract restores exactly the confirmed state") {
  // Issue 17, case 2: with 1.x, retracting both events of one consent
  // restored the older one's state, never kept; its retry was then
  // answered duplicate and never written.
  fixture f;
  const auto received = f.make("consent.received", "m-a", "2026-11-20T10:00:00Z", "c-2");
  const auto updated = f.make("consent.updated", "m-b", "2026-11-20T10:05:00Z", "c-2");
  const fw::delivery a = f.admit(received);
  REQUIRE(a.outcome == fw::outcome::accepted);
  const fw::delivery b = f.admit(updated);
  CHECK(b.outcome == fw::outcome::in_progress);  // one pending change per consent
  CHECK(f.receiver.retract(b) == false);
  CHECK(f.receiver.retract(a));
  CHECK_FALSE(f.receiver.consents().latest("c-2"));
  CHECK_FALSE(f.receiver.consents().pending("c-2"));
  // Both retries are judged afresh: accepted, in order.
  const fw::delivery a2 = f.admit(received);
  REQUIRE(a2.outcome == fw::outcome::accepted);
  REQUIRE(f.receiver.confirm(a2));
  const fw::delivery b2 = f.admit(updated);
  CHECK(b2.outcome == fw::outcome::accepted);
}

TEST_CASE("superseded is judged on confirmed state and confirms the id") {
  fixture f;
  const auto newer = f.make("consent.updated", "m-new", "2026-11-20T10:10:00Z", "c-3");
  const auto older = f.make("consent.received", "m-old", "2026-11-20T10:00:00Z", "c-3");
  const fw::delivery n = f.admit(newer);
  REQUIRE(n.outcome == fw::outcome::accepted);
  CHECK(f.admit(older).outcome == fw::outcome::in_progress);
  REQUIRE(f.receiver.confirm(n));
  const fw::delivery o = f.admit(older);
  CHECK(o.outcome == fw::outcome::superseded);
  CHECK(o.http_status() == 200);
  CHECK_FALSE(f.receiver.store().pending("m-old"));
  CHECK(f.admit(older).outcome == fw::outcome::duplicate);
}

TEST_CASE("in_progress: its name, status and error kind") {
  CHECK(fw::outcome_name(fw::outcome::in_progress) == "in_progress");
  CHECK(fw::http_status(fw::outcome::in_progress) == 503);
  CHECK(fw::outcome_of(fw::make_error_code(fw::errc::message_id_in_progress)) == fw::outcome::in_progress);
  CHECK(fw::outcome_of(fw::make_error_code(fw::errc::consent_in_progress)) == fw::outcome::in_progress);
  CHECK(fw::make_error_code(fw::errc::consent_in_progress).message().find("consent") != std::string::npos);
  CHECK(fw::idempotency_store::bytes_per_entry == 17);  // the pending bits cost no memory
  CHECK(fw::consent_tracker::bytes_per_entry == 34);
}

TEST_CASE("the store's own remember answers in_progress for a pending id") {
  fixture f;
  const auto a = f.make("banking.accounts.sync.completed", "m-s", "2026-11-20T10:00:00Z");
  const fw::delivery first = f.admit(a);
  REQUIRE(first.outcome == fw::outcome::accepted);
  const auto seen = f.receiver.store().remember("m-s", at("2026-11-20T10:00:00Z"), f.clock.now());
  REQUIRE(seen);
  CHECK(seen->verdict == fw::sighting::in_progress);
  CHECK(f.receiver.store().remember("other", at("2026-11-20T10:00:00Z"), f.clock.now())->verdict ==
        fw::sighting::first_time);
  CHECK_FALSE(f.receiver.store().pending("other"));  // remember confirms at once
}
