// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
//
// README.md's C++ examples, compiled from the README itself (see
// doc_examples.py) and called here, so the README cannot go stale.
#include <doctest/doctest.h>

#include "readme_examples.hpp"
#include "sanitizers.hpp"
#include "support.hpp"

namespace fw = fiskil::webhooks;

TEST_CASE("the README example answers every outcome's status, 413 and 503 included") {
  static_assert(readme_example_count == 1);
  const auto samples = test_support::load_samples(test_support::fixtures_dir());
  REQUIRE_FALSE(samples.empty());
  const std::string secret = samples.front().secret;
  const fw::signing_key key = fw::signing_key::from_base64(secret).value();
  fw::manual_clock clock;
  fw::receiver receiver =
      readme_example_1::make_receiver(secret, "203.0.113.0/24, 2001:db8::/32", fw::clock{clock}).value();
  CHECK(readme_example_1::make_receiver(secret, "203.0.113.0/24, 10.0.0.1/8").error() ==
        fw::errc::allowlist_host_bits_set);
  CHECK(readme_example_1::make_receiver("not base64!", "203.0.113.0/24").error() == fw::error_kind::secret);
  fw::parser parser;

  // Every sample signed with the first secret: 200 at its publish_time, then
  // 200 again (a duplicate), 401 with a body changed in transit.
  std::size_t accepted = 0;
  for (const auto& s : samples) {
    if (s.secret != secret) continue;
    CAPTURE(s.name);
    clock.set(fw::timestamp{std::chrono::nanoseconds{std::stoll(s["publish_time_ns"])}});
    const std::size_t before = receiver.store().evicted_unexpired();
    CHECK(readme_example_1::on_delivery(receiver, parser, "203.0.113.7", s.body, s["signature"]) == 200);
    CHECK(receiver.store().contains(s["message_id"], clock.now()));
    CHECK(readme_example_1::on_delivery(receiver, parser, "2001:db8::7", s.body, s["signature"]) == 200);
    CHECK(readme_example_1::on_delivery(receiver, parser, "203.0.113.7", s.body + "\n", s["signature"]) == 401);
    CHECK(receiver.store().evicted_unexpired() == before);
    ++accepted;
  }
  CHECK(accepted >= 21);

  const auto signed_request = [&](const std::string& body, const char* peer = "203.0.113.7") {
    return readme_example_1::on_delivery(receiver, parser, peer, body, fw::sign(key, body).view());
  };
  clock.set(fw::parse_rfc3339("2026-11-20T09:00:00Z").value());
  const std::string fresh = R"({"publish_time":"2026-11-20T09:00:00Z","message_id":"r1","data":{"event":"x"}})";
  CHECK(signed_request(fresh, "198.51.100.9") == 403);
  CHECK(signed_request(fresh, "not an address") == 403);
  CHECK(signed_request(R"({"message_id":"m"})") == 400);
  CHECK(signed_request(R"({"publish_time":"2026-11-20T07:00:00Z","message_id":"r2","data":{}})") == 422);
  CHECK(signed_request(R"({"publish_time":"2026-11-20T09:30:00Z","message_id":"r3","data":{}})") == 422);
  CHECK(signed_request(std::string((std::size_t{1} << 20) + 1, ' ')) == 413);
  CHECK(signed_request(fresh) == 200);
#if !defined(FW_TEST_SANITIZED)
  // A parser that cannot reserve its storage: the example answers 503, so
  // the provider retries. (Sanitizer runtimes abort on such an allocation.)
  fw::parser greedy{{.max_body_size = std::size_t{1} << 60, .initial_capacity = std::size_t{1} << 50}};
  const std::string another = R"({"publish_time":"2026-11-20T09:00:00Z","message_id":"r4","data":{}})";
  CHECK(readme_example_1::on_delivery(receiver, greedy, "203.0.113.7", another, fw::sign(key, another).view()) == 503);
#endif
}
