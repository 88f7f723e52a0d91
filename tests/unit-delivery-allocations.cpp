// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
//
// The delivery-semantics parts allocate only at construction: proven by
// counting every operator new and malloc (allocation_counting.hpp) over many
// operations down every path, evictions and refusals included.
#include <doctest/doctest.h>

#include <fiskil/webhooks.hpp>

#include <array>
#include <chrono>
#include <string>
#include <vector>

#include "allocation_counting.hpp"
#include "support.hpp"

namespace fw = fiskil::webhooks;
using namespace std::chrono_literals;
using allocation_counting::counts;
using allocation_counting::snapshot;

namespace {

fw::timestamp at(std::string_view text) { return fw::parse_rfc3339(text).value(); }

long allocations_since(const counts& before) {
  const counts after = snapshot();
  return (after.news - before.news) + (after.mallocs - before.mallocs);
}

std::vector<std::string> make_ids(std::size_t count) {
  std::vector<std::string> ids;
  for (std::size_t i = 0; i < count; ++i) ids.push_back(std::to_string(7000000000000000 + i));
  return ids;
}

}  // namespace

TEST_CASE("idempotency store: one allocation at create, none in 200000 operations") {
  const std::vector<std::string> ids = make_ids(1000);
  const counts before_create = snapshot();
  fw::idempotency_store store = fw::idempotency_store::create({.capacity = 300, .retention = 10min}).value();
  CHECK(snapshot().news - before_create.news == 1);

  const fw::timestamp t0 = at("2026-11-20T09:00:00Z");
  long first = 0, duplicate = 0, evicted = 0, refused = 0;
  const counts before = snapshot();
  for (std::size_t round = 0; round < 50; ++round) {
    // Time moves on by 20 s a round: ids expire and their room is reused;
    // 1000 live ids in a 300-entry store force evictions too.
    const fw::timestamp now = t0 + std::chrono::seconds(20 * round);
    for (std::size_t i = 0; i < ids.size(); ++i) {
      const fw::result<fw::remember_result> r = store.remember(ids[i], now - std::chrono::seconds(i % 60), now);
      first += r->verdict == fw::sighting::first_time;
      duplicate += r->verdict == fw::sighting::duplicate;
      evicted += r->evicted_unexpired;
      duplicate += store.remember(ids[i], now, now)->verdict == fw::sighting::duplicate;
      refused += !store.remember("", now, now).has_value();
      if (i % 7 == 0) (void)store.forget(ids[i]);
      (void)store.contains(ids[(i * 31) % ids.size()], now);
    }
  }
  CHECK(allocations_since(before) == 0);
  CHECK(first > 0);
  CHECK(duplicate > 0);
  CHECK(evicted > 0);
  CHECK(refused == 50 * 1000);
}

TEST_CASE("consent tracker: one allocation at create, none in 200000 operations") {
  const std::vector<std::string> ids = make_ids(500);
  const counts before_create = snapshot();
  fw::consent_tracker tracker = fw::consent_tracker::create({.capacity = 200, .retention = 10min}).value();
  CHECK(snapshot().news - before_create.news == 1);

  const fw::timestamp t0 = at("2026-11-20T09:00:00Z");
  long newer = 0, not_newer = 0, evicted = 0;
  const counts before = snapshot();
  for (std::size_t round = 0; round < 100; ++round) {
    const fw::timestamp now = t0 + std::chrono::seconds(30 * round);
    for (std::size_t i = 0; i < ids.size(); ++i) {
      const auto change = static_cast<fw::consent_change>(1 + (i + round) % 3);
      const fw::result<fw::consent_step> step = tracker.observe(ids[i], change, now - std::chrono::seconds(i % 90), now);
      newer += step->verdict == fw::consent_order::newer;
      not_newer += step->verdict != fw::consent_order::newer;
      evicted += step->evicted_unexpired;
      if (i % 11 == 0) (void)tracker.retract(ids[i], change, now - std::chrono::seconds(i % 90));
      (void)tracker.latest(ids[(i * 7) % ids.size()]);
      (void)tracker.observe("", change, now, now);
      (void)tracker.observe(ids[i], fw::consent_change::updated, t0, now);
    }
  }
  CHECK(allocations_since(before) == 0);
  CHECK(newer > 0);
  CHECK(not_newer > 0);
  CHECK(evicted > 0);
}

TEST_CASE("source allowlist: parsing and checking never allocate") {
  std::string text = "# provider ranges\n";
  for (int i = 0; i < 60; ++i) text += "10." + std::to_string(i) + ".0.0/16, 2001:db8:" + std::to_string(i) + "::/48\n";
  const char* const addresses[] = {"10.3.2.1", "10.200.0.1", "2001:db8:7::1", "2001:db9::1", "::ffff:10.1.2.3",
                                   "not an address", "", "1.2.3.4.5", "fe80::1%eth0"};
  long inside = 0;
  const counts before = snapshot();
  fw::allowlist_parse_error where;
  const fw::result<fw::basic_source_allowlist<128>> parsed = fw::basic_source_allowlist<128>::parse(text, &where);
  const bool bad_refused = !fw::source_allowlist::parse("10.0.0.1/8, x", &where).has_value();
  for (int round = 0; round < 20000; ++round) {
    for (const char* a : addresses) inside += parsed->contains(a);
    inside += parsed->contains(*fw::ip_address::parse("2001:db8:59::9"));
  }
  CHECK(allocations_since(before) == 0);
  CHECK(bad_refused);
  CHECK(inside == 20000 * 4);
}

TEST_CASE("receiver: no allocation after create and a thread's first delivery, down every path") {
  const std::vector<test_support::sample> samples = test_support::load_samples(test_support::fixtures_dir());
  REQUIRE(samples.size() >= 29);
  const fw::signing_key key = fw::signing_key::from_base64(samples.front().secret).value();
  const fw::keyring keys{key, fw::signing_key::from_base64(
                                  test_support::read_file(test_support::fixtures_dir() / "secret_rotated.b64")).value()};
  fw::manual_clock clock;
  fw::receiver receiver = fw::receiver::create(keys, fw::source_allowlist::parse("203.0.113.0/24, ::1").value(),
                                               {.message_capacity = 64, .consent_capacity = 32, .clock = fw::clock{clock}})
                              .value();
  std::vector<std::string> tampered;
  for (const auto& s : samples) tampered.push_back(s.body + " ");
  const std::string not_envelope = R"({"message_id":"m"})";
  const std::string not_envelope_signature{fw::sign(key, not_envelope).view()};

  long outcomes[12] = {};
  long handled = 0;
  fw::parser own;
  const fw::source_allowlist allowlist_a = fw::source_allowlist::parse("203.0.113.0/24, ::1").value();
  const fw::source_allowlist allowlist_b = fw::source_allowlist::parse("203.0.113.0/25, 203.0.113.128/25, ::1").value();
  const fw::keyring keys_swapped{keys.keys()[1], keys.keys()[0]};
  auto round = [&](int n) {
    // Rotation and allowlist changes are part of the steady state too.
    if (n % 7 == 0) {
      CHECK(receiver.replace_keys(n % 2 == 0 ? keys : keys_swapped));
      receiver.replace_allowlist(n % 2 == 0 ? allowlist_a : allowlist_b);
    }
    for (std::size_t i = 0; i < samples.size(); ++i) {
      const auto& s = samples[i];
      const fw::timestamp published{std::chrono::nanoseconds{std::stoll(s["publish_time_ns"])}};
      // Alternate fresh, stale and too-early clocks; every few rounds the
      // same deliveries come back (duplicates) or ids are forgotten.
      clock.set(published + (n % 3 == 0 ? 66min : n % 3 == 1 ? 1s : -6min));
      const fw::delivery d = receiver.receive(fw::delivery_request::from_text("203.0.113.9", s.body, s["signature"]),
                                              [&](fw::consent_event auto const&) { ++handled; },
                                              [&](const auto&) { ++handled; });
      ++outcomes[static_cast<int>(d.outcome)];
      if (d.outcome == fw::outcome::accepted && n % 5 == 1) (void)receiver.retract(d);  // after receive's confirm: a no-op
      const fw::ip_address outside = fw::ip_address::from_bytes(std::array<unsigned char, 4>{198, 51, 100, 1}).value();
      ++outcomes[static_cast<int>(receiver.admit(own, {.source = outside, .body = s.body, .signature = s["signature"]}).outcome)];
      ++outcomes[static_cast<int>(receiver.admit(own, fw::delivery_request::from_text("::1", tampered[i], s["signature"])).outcome)];
      ++outcomes[static_cast<int>(
          receiver.admit(own, fw::delivery_request::from_text("203.0.113.1", not_envelope, not_envelope_signature)).outcome)];
      // Through the caller's parser, a token kept while the parser parses
      // again, then retracted.
      const fw::delivery kept = receiver.admit(own, fw::delivery_request::from_text("203.0.113.2", s.body, s["signature"]));
      (void)receiver.admit(own, fw::delivery_request::from_text("::1", not_envelope, not_envelope_signature));
      // Then settled: retracted, or confirmed (receive above confirmed its own).
      if (kept.outcome == fw::outcome::accepted) (void)(n % 3 == 0 ? receiver.retract(kept) : receiver.confirm(kept));
      // A copy of a pending delivery (in_progress) allocates nothing either:
      // forget the id, admit it (pending), admit a copy, retract.
      const fw::delivery_request again = fw::delivery_request::from_text("203.0.113.3", s.body, s["signature"]);
      const fw::delivery seen = receiver.admit(own, again);
      if (seen.event) (void)receiver.store().forget(fw::envelope_of(*seen.event).message_id);
      const fw::delivery pending = receiver.admit(own, again);
      ++outcomes[static_cast<int>(receiver.admit(own, again).outcome)];
      (void)receiver.retract(pending);
    }
  };
  round(1);  // warm-up: this thread's parsers reserve their storage
  const counts before = snapshot();
  for (int n = 0; n < 1000; ++n) round(n);
  CHECK(allocations_since(before) == 0);
  CHECK(outcomes[static_cast<int>(fw::outcome::accepted)] > 0);
  CHECK(outcomes[static_cast<int>(fw::outcome::duplicate)] > 0);
  CHECK(outcomes[static_cast<int>(fw::outcome::stale)] > 0);
  CHECK(outcomes[static_cast<int>(fw::outcome::too_early)] > 0);
  CHECK(outcomes[static_cast<int>(fw::outcome::forbidden_source)] >= 1000);
  CHECK(outcomes[static_cast<int>(fw::outcome::bad_signature)] >= 1000);
  CHECK(outcomes[static_cast<int>(fw::outcome::bad_envelope)] >= 1000);
  CHECK(outcomes[static_cast<int>(fw::outcome::in_progress)] > 0);
  CHECK(handled > 0);
}
