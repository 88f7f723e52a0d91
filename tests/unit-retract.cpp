// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
//
// retract in an event-loop or coroutine gateway: another delivery is parsed
// (on the same thread, perhaps by the same parser) between an admit and its
// retract. The delivery's own token decides what is forgotten.
#include <doctest/doctest.h>

#include <fiskil/webhooks.hpp>

#include <string>

namespace fw = fiskil::webhooks;
using namespace std::chrono_literals;

namespace {

fw::timestamp at(std::string_view text) { return fw::parse_rfc3339(text).value(); }

struct fixture {
  fw::signing_key key = fw::signing_key::from_base64("c2VjcmV0LWtleS1mb3ItdGVzdHM=").value();
  fw::manual_clock clock{at("2026-11-20T09:05:00Z")};
  fw::receiver receiver = fw::receiver::create(fw::keyring{key}, fw::source_allowlist::parse("0.0.0.0/0, ::/0").value(),
                                               {.clock = fw::clock{clock}})
                              .value();

  struct signed_body {
    std::string body, signature;
  };
  signed_body make(std::string_view event, std::string_view message_id, std::string_view consent_id,
                   std::string_view publish_time = "2026-11-20T09:00:00Z") const {
    signed_body made;
    made.body = R"({"publish_time":")" + std::string(publish_time) + R"(","message_id":")" + std::string(message_id) +
                R"(","data":{"event":")" + std::string(event) + R"(","consent_id":")" + std::string(consent_id) +
                R"(","end_user_id":"u"}})";
    made.signature = std::string(fw::sign(key, made.body).view());
    return made;
  }
  static fw::delivery_request request(const signed_body& b) {
    return {.source = fw::ip_address::parse("203.0.113.7").value(), .body = b.body, .signature = b.signature};
  }
};

}  // namespace

TEST_CASE("two admits interleaved on one parser: retracting the first forgets the first id") {
  fixture f;
  fw::parser p;
  const auto first = f.make("banking.accounts.sync.completed", "id-first", "c-1");
  const auto second = f.make("banking.accounts.sync.completed", "id-second", "c-2");

  const fw::delivery a = f.receiver.admit(p, fixture::request(first));
  REQUIRE(a.outcome == fw::outcome::accepted);
  // The same parser parses another delivery before the first is retracted:
  // a.event's views now see the second body, but a.token does not.
  const fw::delivery b = f.receiver.admit(p, fixture::request(second));
  REQUIRE(b.outcome == fw::outcome::accepted);
  CHECK(fw::envelope_of(*b.event).message_id == "id-second");
  CHECK(f.receiver.confirm(b.token));  // the second was kept

  CHECK(f.receiver.retract(a));
  CHECK_FALSE(f.receiver.store().contains("id-first", f.clock.now()));
  CHECK(f.receiver.store().contains("id-second", f.clock.now()));
  // The provider's retry of the first is accepted afresh; the second is
  // still a duplicate.
  CHECK(f.receiver.admit(p, fixture::request(first)).outcome == fw::outcome::accepted);
  CHECK(f.receiver.admit(p, fixture::request(second)).outcome == fw::outcome::duplicate);
  // A duplicate has nothing to retract.
  CHECK_FALSE(f.receiver.retract(f.receiver.admit(p, fixture::request(second))));
}

TEST_CASE("two admits interleaved with two parsers: the same") {
  fixture f;
  fw::parser p1, p2;
  const auto first = f.make("banking.accounts.sync.completed", "id-first", "c-1");
  const auto second = f.make("banking.accounts.sync.completed", "id-second", "c-2");
  const fw::delivery a = f.receiver.admit(p1, fixture::request(first));
  const fw::delivery b = f.receiver.admit(p2, fixture::request(second));
  REQUIRE(a.outcome == fw::outcome::accepted);
  REQUIRE(b.outcome == fw::outcome::accepted);
  CHECK(f.receiver.confirm(b));
  // p1 parses something else again (a refused delivery still parses).
  (void)p1.parse(second.body);
  CHECK(f.receiver.retract(a));
  CHECK(f.receiver.admit(p2, fixture::request(second)).outcome == fw::outcome::duplicate);
  CHECK(f.receiver.admit(p1, fixture::request(first)).outcome == fw::outcome::accepted);
}

TEST_CASE("interleaved consent events: retract restores the first event's consent, not the other's") {
  fixture f;
  fw::parser p;
  const auto revoke_1 = f.make("consent.revoked", "m-1", "consent-one");
  const auto receive_2 = f.make("consent.received", "m-2", "consent-two");
  const fw::delivery a = f.receiver.admit(p, fixture::request(revoke_1));
  const fw::delivery b = f.receiver.admit(p, fixture::request(receive_2));
  REQUIRE(a.outcome == fw::outcome::accepted);
  REQUIRE(b.outcome == fw::outcome::accepted);
  CHECK(f.receiver.confirm(b));
  CHECK(f.receiver.retract(a));
  CHECK_FALSE(f.receiver.consents().latest("consent-one"));
  CHECK_FALSE(f.receiver.consents().pending("consent-one"));
  REQUIRE(f.receiver.consents().latest("consent-two"));
  CHECK(f.receiver.consents().latest("consent-two")->change == fw::consent_change::received);
  // The revocation's retry is accepted again and applied once confirmed.
  const fw::delivery retry = f.receiver.admit(p, fixture::request(revoke_1));
  CHECK(retry.outcome == fw::outcome::accepted);
  CHECK_FALSE(f.receiver.consents().latest("consent-one"));
  CHECK(f.receiver.consents().pending("consent-one")->change == fw::consent_change::revoked);
  CHECK(f.receiver.confirm(retry));
  CHECK(f.receiver.consents().latest("consent-one")->change == fw::consent_change::revoked);
}

TEST_CASE("the convenience receive returns no event; it confirmed the delivery") {
  fixture f;
  const auto first = f.make("banking.accounts.sync.completed", "id-conv", "c-1");
  std::string seen;
  const fw::delivery d = f.receiver.receive(fixture::request(first), [&](const auto& e) { seen = e.message_id; });
  CHECK(d.outcome == fw::outcome::accepted);
  CHECK(d.handled);
  CHECK(seen == "id-conv");
  CHECK_FALSE(d.event);  // would point into the hidden thread_local parser
  REQUIRE(d.key_index);
  CHECK(*d.key_index == 0);
  // receive confirmed it when the handler returned: a retract changes
  // nothing, and a copy is a duplicate.
  CHECK_FALSE(f.receiver.retract(d));
  CHECK(f.receiver.receive(fixture::request(first), [](const auto&) {}).outcome == fw::outcome::duplicate);
}

TEST_CASE("only accepted deliveries retract") {
  fixture f;
  fw::parser p;
  const auto b = f.make("banking.accounts.sync.completed", "id-x", "c-1");
  const fw::delivery first = f.receiver.admit(p, fixture::request(b));
  REQUIRE(first.outcome == fw::outcome::accepted);
  const fw::delivery copy = f.receiver.admit(p, fixture::request(b));
  CHECK(copy.outcome == fw::outcome::in_progress);
  CHECK_FALSE(f.receiver.retract(copy));
  CHECK(f.receiver.store().pending("id-x"));
  REQUIRE(f.receiver.confirm(first));
  const fw::delivery dup = f.receiver.admit(p, fixture::request(b));
  CHECK(dup.outcome == fw::outcome::duplicate);
  CHECK_FALSE(f.receiver.retract(dup));
  CHECK(f.receiver.store().contains("id-x", f.clock.now()));
  CHECK_FALSE(f.receiver.retract(fw::delivery{}));
}
