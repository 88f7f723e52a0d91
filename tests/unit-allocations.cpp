// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
//
// Zero heap allocations in steady state, proven by counting them (see
// allocation_counting.hpp: operator new and, outside sanitizer builds,
// malloc, including inside simdjson and the crypto library).
#include <doctest/doctest.h>

#include <fiskil/webhooks.hpp>

#include <cstdlib>

#include "allocation_counting.hpp"
#include "support.hpp"

namespace fw = fiskil::webhooks;

using allocation_counting::counts;
using allocation_counting::snapshot;

TEST_CASE("the counters see allocations (so a zero below means something)") {
  // Through volatile globals, so the compiler may not elide the pairs.
  static int* volatile escaped_new;
  static void* volatile escaped_malloc;
  const counts before = snapshot();
  escaped_new = new int(1);
  delete escaped_new;
  escaped_malloc = std::malloc(16);
  std::free(escaped_malloc);
  const counts after = snapshot();
  CHECK(after.news - before.news == 1);
#if !defined(FW_TEST_SANITIZED)
  CHECK(after.mallocs - before.mallocs >= 2);
#endif
  // A fresh parser reserves its storage on first use: counted.
  fw::parser fresh;
  const counts reserve_before = snapshot();
  CHECK(fresh.parse(R"({"publish_time":"2026-01-01T00:00:00Z","message_id":"m","data":{}})").has_value());
  CHECK(snapshot().news > reserve_before.news);
}

TEST_CASE("1000 rounds of verify + parse + dispatch over every sample allocate nothing") {
  std::vector<test_support::sample> samples = test_support::load_samples(test_support::fixtures_dir());
  const auto shared = test_support::load_samples(test_support::shared_corpus_dir());
  REQUIRE(samples.size() >= 29);
  const fw::keyring ring{*fw::signing_key::from_base64(samples.front().secret),
                         *fw::signing_key::from_base64(
                             test_support::read_file(test_support::fixtures_dir() / "secret_rotated.b64"))};
  fw::keyring shared_ring;
  if (!shared.empty()) {
    CHECK(shared_ring.add(*fw::signing_key::from_base64(shared.front().secret)));
    CHECK(shared_ring.add(*fw::signing_key::from_base64(
        test_support::read_file(test_support::shared_corpus_dir() / "secret_rotated.b64"))));
  }
  std::vector<std::string> tampered, trailing;
  for (const auto& s : samples) {
    tampered.push_back(s.body + " ");
    trailing.push_back(s.body + " x");
  }

  fw::parser p;
  long accepted = 0, refused = 0, handled = 0;
  std::size_t ids = 0;
  auto round = [&] {
    auto one = [&](const fw::keyring& keys, const test_support::sample& s) {
      fw::result<fw::verified_event> ev = p.verify_and_parse(keys, s.body, s["signature"]);
      if (!ev) return;
      ++accepted;
      handled += fw::dispatch(
          ev->event, [&](fw::with_account_ids auto const& e) { for (std::string_view id : e.account_ids) ids += id.size(); },
          [&](fw::consent_event auto const& e) { ids += e.consent_id.size(); },
          [&](const auto& e) { ids += e.message_id.size(); });
    };
    for (const auto& s : samples) one(ring, s);
    for (const auto& s : shared) one(shared_ring, s);
    for (std::size_t i = 0; i < samples.size(); ++i) {
      // Error paths allocate nothing either.
      refused += !p.verify_and_parse(ring, tampered[i], samples[i]["signature"]).has_value();
      refused += !p.parse("{\"publish_time\":1}").has_value();
      refused += !p.parse(trailing[i]).has_value();
      refused += fw::verify(ring, samples[i].body, "not base64!") ? 0 : 1;
    }
  };
  round();  // warm-up: reserves the parser's storage, sets up simdjson's kernels
  accepted = refused = handled = 0;

  const counts before = snapshot();
  for (int i = 0; i < 1000; ++i) round();
  const counts after = snapshot();

  CHECK(after.news - before.news == 0);
  CHECK(after.mallocs - before.mallocs == 0);
  const long per_round = static_cast<long>(samples.size() + shared.size());
  CHECK(accepted == 1000 * per_round);
  CHECK(handled == accepted);
  CHECK(refused == 1000 * static_cast<long>(samples.size()) * 4);
  CHECK(ids > 0);
}
