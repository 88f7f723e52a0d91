// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
//
// README.md's C++ examples, compiled from the README itself (see
// readme_examples.py) and called here, so the README cannot go stale.
#include <doctest/doctest.h>

#include "readme_examples.hpp"
#include "support.hpp"

namespace fw = fiskil::webhooks;

TEST_CASE("the README quick start answers 200, 401 and 400 as it says") {
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
}
