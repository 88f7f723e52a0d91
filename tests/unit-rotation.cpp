// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
//
// Configuration apart from state: replace_keys and replace_allowlist change
// what a receiver accepts and keep what it remembers. (The same under
// threads: tests/concurrency-delivery.cpp.)
#include <doctest/doctest.h>

#include <fiskil/webhooks.hpp>

#include <string>

namespace fw = fiskil::webhooks;
using namespace std::chrono_literals;

namespace {

fw::timestamp at(std::string_view text) { return fw::parse_rfc3339(text).value(); }

struct signed_body {
  std::string body, signature;
};

signed_body make(const fw::signing_key& key, std::string_view event, std::string_view message_id,
                 std::string_view consent_id = "c-1") {
  signed_body made;
  made.body = R"({"publish_time":"2026-11-20T09:00:00Z","message_id":")" + std::string(message_id) +
              R"(","data":{"event":")" + std::string(event) + R"(","consent_id":")" + std::string(consent_id) + R"("}})";
  made.signature = std::string(fw::sign(key, made.body).view());
  return made;
}

fw::delivery_request request(const signed_body& b, std::string_view source = "203.0.113.7") {
  return fw::delivery_request::from_text(source, b.body, b.signature);
}

}  // namespace

TEST_CASE("replace_keys: new key accepted, old refused, ids and consents remembered across the rotation") {
  const fw::signing_key old_key = fw::signing_key::from_base64("b2xkIHNlY3JldA==").value();
  const fw::signing_key new_key = fw::signing_key::from_base64("bmV3IHNlY3JldA==").value();
  fw::manual_clock clock{at("2026-11-20T09:05:00Z")};
  fw::receiver r = fw::receiver::create(fw::keyring{old_key}, fw::source_allowlist::parse("0.0.0.0/0").value(),
                                        {.clock = fw::clock{clock}})
                       .value();
  fw::parser p;
  const signed_body before = make(old_key, "banking.accounts.sync.completed", "m-before");
  const signed_body revoked = make(old_key, "consent.revoked", "m-revoke", "c-rot");
  REQUIRE(r.confirm(r.admit(p, request(before))));
  REQUIRE(r.confirm(r.admit(p, request(revoked))));

  // Rotate in two steps, as a gateway does: both keys, then the new alone.
  REQUIRE(r.replace_keys(fw::keyring{new_key, old_key}));
  CHECK(r.keys().size() == 2);
  // A retry of the message seen before, signed with the old key: duplicate.
  CHECK(r.admit(p, request(before)).outcome == fw::outcome::duplicate);
  // The same message re-signed with the new key: still a duplicate.
  const signed_body resigned = make(new_key, "banking.accounts.sync.completed", "m-before");
  const fw::delivery d = r.admit(p, request(resigned));
  CHECK(d.outcome == fw::outcome::duplicate);
  REQUIRE(d.key_index);
  CHECK(*d.key_index == 0);
  CHECK(*r.admit(p, request(make(old_key, "x.y", "m-old-key"))).key_index == 1);

  REQUIRE(r.replace_keys(fw::keyring{new_key}));
  CHECK(r.keys().size() == 1);
  const fw::delivery refused = r.admit(p, request(make(old_key, "x.y", "m-late-old")));
  CHECK(refused.outcome == fw::outcome::bad_signature);
  CHECK_FALSE(refused.key_index);
  CHECK(r.confirm(r.admit(p, request(make(new_key, "x.y", "m-new")))));
  // The revocation is remembered: a later update of that consent, signed with
  // the new key, is after_revocation.
  CHECK(r.admit(p, request(make(new_key, "consent.updated", "m-upd", "c-rot"))).outcome ==
        fw::outcome::after_revocation);

  // An empty keyring is refused and changes nothing.
  CHECK(r.replace_keys(fw::keyring{}).error() == fw::errc::keyring_empty);
  CHECK(r.keys().size() == 1);
  CHECK(r.confirm(r.admit(p, request(make(new_key, "x.y", "m-new-2")))));
}

TEST_CASE("replace_allowlist changes the sources accepted and keeps the store") {
  const fw::signing_key key = fw::signing_key::from_base64("a2V5").value();
  fw::manual_clock clock{at("2026-11-20T09:05:00Z")};
  fw::receiver r = fw::receiver::create(fw::keyring{key}, fw::source_allowlist::parse("203.0.113.0/24").value(),
                                        {.clock = fw::clock{clock}})
                       .value();
  fw::parser p;
  const signed_body b = make(key, "x.y", "m-1");
  CHECK(r.admit(p, request(b, "198.51.100.9")).outcome == fw::outcome::forbidden_source);
  CHECK(r.confirm(r.admit(p, request(b, "203.0.113.9"))));
  r.replace_allowlist(fw::source_allowlist::parse("198.51.100.0/24").value());
  CHECK(r.allowlist().size() == 1);
  CHECK(r.allowlist().contains(fw::ip_address::parse("198.51.100.9").value()));
  CHECK(r.admit(p, request(b, "203.0.113.9")).outcome == fw::outcome::forbidden_source);
  CHECK(r.admit(p, request(b, "198.51.100.9")).outcome == fw::outcome::duplicate);
  // The keys were untouched by the allowlist's replacement.
  CHECK(r.keys().size() == 1);
}
