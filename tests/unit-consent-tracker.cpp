// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
#include <doctest/doctest.h>

#include <fiskil/webhooks.hpp>

#include <chrono>
#include <string>

#include "support.hpp"

namespace fw = fiskil::webhooks;
using namespace std::chrono_literals;
using fw::consent_change;
using fw::consent_order;

namespace {

// consent_name is "c" and i, appended (g++ 12 at -O3 warns, a -Wrestrict
// false positive, on "c" + std::to_string(i)).
std::string consent_name(int i) {
  std::string name = "c";
  name += std::to_string(i);
  return name;
}

fw::timestamp at(const char* text) { return fw::parse_rfc3339(text).value(); }

const fw::timestamp t0 = at("2026-11-20T09:00:00Z");

fw::consent_tracker make_tracker(std::size_t capacity = 1000, std::chrono::nanoseconds retention = 70min) {
  return fw::consent_tracker::create({.capacity = capacity, .retention = retention}).value();
}

consent_order observe(fw::consent_tracker& tracker, std::string_view id, consent_change change, fw::timestamp when,
                      fw::timestamp now = t0 + 1h) {
  const fw::result<fw::consent_step> step = tracker.observe(id, change, when, now);
  REQUIRE(step.has_value());
  return step->verdict;
}

}  // namespace

TEST_CASE("in-order events are each newer; repeats are duplicates") {
  fw::consent_tracker tracker = make_tracker();
  CHECK(observe(tracker, "c1", consent_change::received, t0) == consent_order::newer);
  CHECK(observe(tracker, "c1", consent_change::received, t0) == consent_order::duplicate);
  CHECK(observe(tracker, "c1", consent_change::updated, t0 + 1min) == consent_order::newer);
  CHECK(observe(tracker, "c1", consent_change::updated, t0 + 2min) == consent_order::newer);
  CHECK(observe(tracker, "c1", consent_change::updated, t0 + 2min) == consent_order::duplicate);
  CHECK(observe(tracker, "c1", consent_change::revoked, t0 + 3min) == consent_order::newer);
  CHECK(observe(tracker, "c1", consent_change::revoked, t0 + 3min) == consent_order::duplicate);
  const std::optional<fw::consent_state> state = tracker.latest("c1");
  REQUIRE(state);
  CHECK(state->change == consent_change::revoked);
  CHECK(state->publish_time == t0 + 3min);
  CHECK_FALSE(tracker.latest("c2"));
}

TEST_CASE("an older event than the latest applied is stale") {
  fw::consent_tracker tracker = make_tracker();
  CHECK(observe(tracker, "c1", consent_change::updated, t0 + 5min) == consent_order::newer);
  CHECK(observe(tracker, "c1", consent_change::updated, t0 + 4min) == consent_order::stale);
  CHECK(observe(tracker, "c1", consent_change::received, t0) == consent_order::stale);
  CHECK(observe(tracker, "c1", consent_change::updated, t0 + 5min - 1ns) == consent_order::stale);
  CHECK(observe(tracker, "c1", consent_change::updated, t0 + 5min + 1ns) == consent_order::newer);
  // Consents are independent.
  CHECK(observe(tracker, "c2", consent_change::received, t0) == consent_order::newer);
}

TEST_CASE("equal publish_times order received < updated < revoked") {
  fw::consent_tracker tracker = make_tracker();
  CHECK(observe(tracker, "c1", consent_change::updated, t0) == consent_order::newer);
  CHECK(observe(tracker, "c1", consent_change::received, t0) == consent_order::stale);
  CHECK(observe(tracker, "c2", consent_change::received, t0) == consent_order::newer);
  CHECK(observe(tracker, "c2", consent_change::updated, t0) == consent_order::newer);
}

TEST_CASE("revoked then updated out of order: revocation is final") {
  fw::consent_tracker tracker = make_tracker();
  CHECK(observe(tracker, "c1", consent_change::received, t0) == consent_order::newer);
  CHECK(observe(tracker, "c1", consent_change::revoked, t0 + 10min) == consent_order::newer);
  // The update was published before the revocation but arrives after it.
  CHECK(observe(tracker, "c1", consent_change::updated, t0 + 5min) == consent_order::after_revocation);
  // Not even an update claiming a later time resurrects it.
  CHECK(observe(tracker, "c1", consent_change::updated, t0 + 20min) == consent_order::after_revocation);
  CHECK(observe(tracker, "c1", consent_change::received, t0 + 30min) == consent_order::after_revocation);
  // Another revocation, at any time, is a duplicate.
  CHECK(observe(tracker, "c1", consent_change::revoked, t0 + 1min) == consent_order::duplicate);
  CHECK(tracker.latest("c1")->change == consent_change::revoked);

  // A revocation for a consent the tracker never saw is applied.
  CHECK(observe(tracker, "c9", consent_change::revoked, t0) == consent_order::newer);
  CHECK(observe(tracker, "c9", consent_change::updated, t0 - 1min) == consent_order::after_revocation);
}

TEST_CASE("a revocation is never stale, even after a later update") {
  fw::consent_tracker tracker = make_tracker();
  CHECK(observe(tracker, "c1", consent_change::updated, t0 + 10min) == consent_order::newer);
  CHECK(observe(tracker, "c1", consent_change::revoked, t0 + 5min) == consent_order::newer);
  CHECK(observe(tracker, "c1", consent_change::updated, t0 + 10min) == consent_order::after_revocation);
}

TEST_CASE("observe takes parsed consent events from the fixtures") {
  const auto samples = test_support::load_samples(test_support::fixtures_dir());
  REQUIRE_FALSE(samples.empty());
  fw::parser p;
  fw::consent_tracker tracker = make_tracker();
  int consent_events = 0;
  for (const auto& s : samples) {
    fw::result<fw::event> ev = p.parse(s.body);
    REQUIRE(ev);
    fw::dispatch(*ev, [&](fw::consent_event auto const& e) {
      ++consent_events;
      const fw::timestamp now = e.publish_time + 1s;
      CHECK(tracker.observe(e, now)->verdict == consent_order::newer);
      CHECK(tracker.observe(e, now)->verdict == consent_order::duplicate);
      CHECK(tracker.latest(e.consent_id)->change == fw::consent_change_of<decltype(e)>);
    });
  }
  CHECK(consent_events >= 3);
  static_assert(fw::consent_change_of<fw::consent_received> == consent_change::received);
  static_assert(fw::consent_change_of<fw::consent_updated> == consent_change::updated);
  static_assert(fw::consent_change_of<const fw::consent_revoked&> == consent_change::revoked);
}

TEST_CASE("observe confirms at once: retract never undoes a confirmed state") {
  fw::consent_tracker tracker = make_tracker();
  CHECK(observe(tracker, "c1", consent_change::received, t0) == consent_order::newer);
  CHECK(observe(tracker, "c1", consent_change::revoked, t0 + 1min) == consent_order::newer);
  CHECK_FALSE(tracker.pending("c1"));
  // retract drops only a pending change (a receiver's admit); none is here.
  CHECK_FALSE(tracker.retract("c1", consent_change::revoked, t0 + 1min));
  CHECK(tracker.latest("c1")->change == consent_change::revoked);
  CHECK_FALSE(tracker.retract("unknown", consent_change::revoked, t0));
}

TEST_CASE("a full tracker evicts the consent closest to expiry and reports it") {
  fw::consent_tracker tracker = make_tracker(15, 10min);
  REQUIRE(tracker.capacity() == 15);
  const fw::timestamp now = t0 + 1min;
  for (int i = 0; i < 15; ++i) {
    const fw::result<fw::consent_step> step =
        tracker.observe(consent_name(i), consent_change::received, t0 + std::chrono::seconds(i), now);
    REQUIRE(step);
    CHECK_FALSE(step->evicted_unexpired);
  }
  const fw::result<fw::consent_step> step = tracker.observe("c15", consent_change::revoked, t0 + 15s, now);
  REQUIRE(step);
  CHECK(step->verdict == consent_order::newer);
  CHECK(step->evicted_unexpired);
  CHECK(tracker.evicted_unexpired() == 1);
  CHECK_FALSE(tracker.latest("c0"));  // published first, so closest to expiry
  CHECK(tracker.latest("c1"));

  // Consents whose latest event is older than the retention make room freely.
  const fw::timestamp later = t0 + 15s + 10min + 1ns;
  for (int i = 100; i < 115; ++i) {
    const fw::result<fw::consent_step> fresh = tracker.observe(consent_name(i), consent_change::received, later, later);
    REQUIRE(fresh);
    CHECK_FALSE(fresh->evicted_unexpired);
  }
  CHECK(tracker.evicted_unexpired() == 1);
}

TEST_CASE("a consent event already past its retention takes no room and evicts nothing") {
  fw::consent_tracker tracker = make_tracker(15, 10min);
  const fw::timestamp now = t0 + 1min;
  for (int i = 0; i < 15; ++i)
    REQUIRE(tracker.observe(consent_name(i), consent_change::received, t0, now));
  const fw::result<fw::consent_step> dead = tracker.observe("dead", consent_change::updated, now - 10min - 1ns, now);
  REQUIRE(dead);
  CHECK(dead->verdict == consent_order::newer);
  CHECK_FALSE(dead->evicted_unexpired);
  CHECK(tracker.evicted_unexpired() == 0);
  CHECK_FALSE(tracker.latest("dead"));
  for (int i = 0; i < 15; ++i) CHECK(tracker.latest(consent_name(i)));
}

TEST_CASE("bad ids and options") {
  fw::consent_tracker tracker = fw::consent_tracker::create({.capacity = 10, .max_id_size = 36}).value();
  CHECK(tracker.observe("", consent_change::received, t0, t0).error() == fw::errc::consent_id_missing);
  CHECK(tracker.observe(std::string(37, 'c'), consent_change::received, t0, t0).error() ==
        fw::errc::consent_id_too_long);
  CHECK(tracker.observe("c0a5e5e0-0000-4000-8000-000000000001", consent_change::received, t0, t0));
  CHECK(fw::consent_tracker::create({.capacity = 0}).error() == fw::errc::store_capacity_invalid);
  CHECK(fw::consent_tracker::create({.max_id_size = 0}).error() == fw::errc::store_capacity_invalid);
  CHECK(fw::consent_tracker::create({.retention = -1s}).error() == fw::errc::window_invalid);
  CHECK(fw::consent_tracker::bytes_per_entry == 34);
  CHECK(fw::consent_tracker::create().value().capacity() >= 16384);
}

TEST_CASE("consent_order_after is the tracker's rule, for every pair of states") {
  const consent_change changes[] = {consent_change::received, consent_change::updated, consent_change::revoked};
  const fw::timestamp times[] = {t0 - 1s, t0, t0 + 1s};
  for (const consent_change first : changes) {
    for (const consent_change second : changes) {
      for (const fw::timestamp when : times) {
        fw::consent_tracker tracker = make_tracker();
        REQUIRE(observe(tracker, "c", first, t0) == consent_order::newer);
        const consent_order pure = fw::consent_order_after(fw::consent_state{first, t0}, second, when);
        CHECK(observe(tracker, "c", second, when) == pure);
      }
    }
  }
  CHECK(fw::consent_order_after(std::nullopt, consent_change::updated, t0) == consent_order::newer);
  CHECK(fw::consent_order_after(fw::consent_state{consent_change::revoked, t0}, consent_change::updated, t0 + 1h) ==
        consent_order::after_revocation);
  CHECK(fw::consent_order_after(fw::consent_state{consent_change::updated, t0 + 1h}, consent_change::revoked, t0) ==
        consent_order::newer);
  CHECK(fw::consent_order_after(fw::consent_state{consent_change::updated, t0}, consent_change::received, t0) ==
        consent_order::stale);
  static_assert(fw::consent_order_after(std::nullopt, consent_change::received, fw::timestamp{}) ==
                consent_order::newer);
}
