// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
//
// README.md's C++ examples, compiled from the README itself (see
// readme_examples.py) and called here, so the README cannot go stale.
#include <doctest/doctest.h>

#include "readme_examples.hpp"
#include "support.hpp"

namespace fw = fiskil::webhooks;

TEST_CASE("the README quick start answers 200, 401, 400 and 413 as it says") {
  static_assert(readme_example_count >= 1);
  const auto samples = test_support::load_samples(test_support::fixtures_dir());
  REQUIRE_FALSE(samples.empty());
  const fw::keyring secrets{
      fw::signing_key::from_base64(samples.front().secret).value(),
      fw::signing_key::from_base64(test_support::read_file(test_support::fixtures_dir() / "secret_rotated.b64")).value()};
  for (const auto& s : samples) {
    CAPTURE(s.name);
    CHECK(readme_example_1::on_webhook(secrets, s.body, s["signature"]) == 200);
    CHECK(readme_example_1::on_webhook(secrets, s.body + "\n", s["signature"]) == 401);
  }
  const std::string not_an_envelope = R"({"message_id":"m"})";
  const fw::signing_key key = fw::signing_key::from_base64(samples.front().secret).value();
  CHECK(readme_example_1::on_webhook(secrets, not_an_envelope, fw::sign(key, not_an_envelope).view()) == 400);
  const std::string too_large((std::size_t{1} << 20) + 1, ' ');
  CHECK(readme_example_1::on_webhook(secrets, too_large, fw::sign(key, too_large).view()) == 413);
}

TEST_CASE("the README's delivery semantics example and its worked timeline") {
  const auto samples = test_support::load_samples(test_support::fixtures_dir());
  REQUIRE_FALSE(samples.empty());
  const std::string secret = samples.front().secret;
  const fw::signing_key key = fw::signing_key::from_base64(secret).value();
  fw::manual_clock clock;
  fw::receiver receiver =
      readme_example_2::make_receiver(secret, "203.0.113.0/24, 2001:db8::/32", fw::clock{clock}).value();
  CHECK_FALSE(readme_example_2::make_receiver(secret, "203.0.113.0/24, 10.0.0.1/8").has_value());

  const auto body = [](const char* event, const char* id, const char* published) {
    return std::string(R"({"publish_time":"2026-11-20T)") + published + R"(Z","message_id":")" + id +
           R"(","data":{"event":")" + event + R"(","consent_id":"C"}})";
  };
  const std::string updated = body("consent.updated", "7001", "09:00:00");
  const std::string revoked = body("consent.revoked", "7002", "09:04:00");
  const std::string late_update = body("consent.updated", "7003", "09:03:00");
  const auto deliver = [&](const char* now, const char* peer, const std::string& b) {
    clock.set(fw::parse_rfc3339(std::string("2026-11-20T") + now + "Z").value());
    return readme_example_2::on_delivery(receiver, peer, b, fw::sign(key, b).view());
  };
  // The README's table, row by row (statuses, then the outcomes behind them).
  CHECK(deliver("09:00:02", "203.0.113.7", updated) == 200);
  CHECK(deliver("09:01:40", "203.0.113.7", updated) == 200);
  CHECK(deliver("09:04:01", "203.0.113.7", revoked) == 200);
  CHECK(deliver("09:12:30", "203.0.113.7", late_update) == 200);
  CHECK(deliver("09:20:00", "198.51.100.9", updated) == 403);
  CHECK(deliver("10:05:00", "2001:db8::7", updated) == 200);
  CHECK(deliver("10:05:01", "2001:db8::7", updated) == 422);
  CHECK(receiver.consents().latest("C")->change == fw::consent_change::revoked);

  fw::receiver fresh = readme_example_2::make_receiver(secret, "203.0.113.0/24", fw::clock{clock}).value();
  const auto outcome = [&](const char* now, const char* peer, const std::string& b) {
    clock.set(fw::parse_rfc3339(std::string("2026-11-20T") + now + "Z").value());
    const std::string signature{fw::sign(key, b).view()};
    fw::parser p;
    return fresh.admit(p, fw::delivery_request::from_text(peer, b, signature)).outcome;
  };
  CHECK(outcome("09:00:02", "203.0.113.7", updated) == fw::outcome::accepted);
  CHECK(outcome("09:01:40", "203.0.113.7", updated) == fw::outcome::duplicate);
  CHECK(outcome("09:04:01", "203.0.113.7", revoked) == fw::outcome::accepted);
  CHECK(outcome("09:12:30", "203.0.113.7", late_update) == fw::outcome::after_revocation);
  CHECK(outcome("09:20:00", "198.51.100.9", updated) == fw::outcome::forbidden_source);
  CHECK(outcome("10:05:00", "203.0.113.8", updated) == fw::outcome::duplicate);
  CHECK(outcome("10:05:01", "203.0.113.8", updated) == fw::outcome::stale);
}
