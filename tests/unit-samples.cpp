// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
//
// Signed sample deliveries, end to end: the project's own fixtures (with
// fields expected by Python's json) and ../shared/corpus when present.
#include <doctest/doctest.h>

#include <fiskil/webhooks.hpp>

#include <chrono>
#include <string>

#include "support.hpp"

namespace fw = fiskil::webhooks;
using test_support::sample;

namespace {

std::string joined(const fw::id_list& ids) {
  std::string out;
  for (std::string_view id : ids) {
    if (!out.empty()) out += ',';
    out += id;
  }
  return out;
}

void check_sample(const sample& s, fw::parser& p, const fw::keyring& ring) {
  CAPTURE(s.name);
  const fw::signing_key key = *fw::signing_key::from_base64(s.secret);
  const std::string& signature = s["signature"];
  CHECK(fw::sign(key, s.body).view() == signature);
  CHECK(fw::verify(key, s.body, signature));

  fw::result<fw::verified_event> verified = p.verify_and_parse(ring, s.body, signature);
  REQUIRE_MESSAGE(verified.has_value(), verified.error().message());
  CHECK(verified->key_index == (s.name == "rotated_secret" ? 1u : 0u));
  fw::result<fw::event> ev{std::move(verified->event)};

  const std::string& event = s["event"];
  const std::size_t expected_index = event.empty() ? fw::detail::unknown_event_index : fw::detail::event_index(event);
  CHECK(ev->index() == expected_index);
  CHECK(fw::event_name(*ev) == event);
  const fw::envelope& env = fw::envelope_of(*ev);
  CHECK_FALSE(env.message_id.empty());

  if (s.has("message_id")) {  // the project's fixtures carry expected fields
    CHECK(env.message_id == s["message_id"]);
    CHECK(env.publish_time.time_since_epoch().count() == std::stoll(s["publish_time_ns"]));
    CHECK(env.consent_id == s["consent_id"]);
    CHECK(env.end_user_id == s["end_user_id"]);
    CHECK(env.client_id == s["client_id"]);
    CHECK(env.institution_id == s["institution_id"]);
    std::visit(
        [&](const auto& e) {
          if constexpr (fw::with_account_ids<decltype(e)>) CHECK(joined(e.account_ids) == s["account_ids"]);
          if constexpr (fw::with_payee_ids<decltype(e)>) CHECK(joined(e.payee_ids) == s["payee_ids"]);
        },
        *ev);
  }

  // Tampering with any one byte is caught; so is the wrong key.
  std::string tampered = s.body;
  tampered[tampered.size() / 2] = static_cast<char>(tampered[tampered.size() / 2] ^ 0x01);
  CHECK(p.verify_and_parse(ring, tampered, signature).error() == fw::errc::signature_mismatch);
}

void check_corpus(const test_support::fs::path& dir, std::size_t expected_at_least) {
  const std::vector<sample> samples = test_support::load_samples(dir);
  REQUIRE(samples.size() >= expected_at_least);
  const fw::signing_key primary = *fw::signing_key::from_base64(samples.front().secret);
  const fw::signing_key rotated =
      *fw::signing_key::from_base64(test_support::read_file(dir / "secret_rotated.b64"));
  const fw::keyring ring{primary, rotated};
  fw::parser p;
  std::size_t documented = 0;
  for (const sample& s : samples) {
    check_sample(s, p, ring);
    if (fw::detail::event_index(s["event"]) != fw::detail::unknown_event_index) ++documented;
  }
  CHECK(documented >= 21);
}

}  // namespace

TEST_CASE("the project's own sample deliveries") {
  REQUIRE_FALSE(test_support::fixtures_dir().empty());
  check_corpus(test_support::fixtures_dir(), 29);
}

TEST_CASE("../shared/corpus sample deliveries, when present") {
  const auto dir = test_support::shared_corpus_dir();
  if (dir.empty()) {
    MESSAGE("../shared/corpus not present; skipped");
    return;
  }
  check_corpus(dir, 27);
}

TEST_CASE("a delivery signed with the retired secret fails under the new one alone") {
  const auto samples = test_support::load_samples(test_support::fixtures_dir());
  const fw::signing_key primary = *fw::signing_key::from_base64(samples.front().secret);
  for (const sample& s : samples) {
    if (s.name != "rotated_secret") continue;
    CHECK(fw::verify(primary, s.body, s["signature"]).error() == fw::errc::signature_mismatch);
    return;
  }
  FAIL("no rotated_secret sample");
}
