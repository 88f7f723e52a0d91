// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
#include <doctest/doctest.h>

// This header alone, to show that it is self-contained; against the single
// header (-Dsingle_include=true) there is only the whole library.
#if __has_include(<fiskil/webhooks/idempotency_store.hpp>)
#include <fiskil/webhooks/idempotency_store.hpp>
#else
#include <fiskil/webhooks.hpp>
#endif

#include <chrono>
#include <cstdint>
#include <ostream>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace fw = fiskil::webhooks;
using namespace std::chrono_literals;

namespace {

fw::timestamp at(const char* text) { return fw::parse_rfc3339(text).value(); }

fw::idempotency_store make_store(std::size_t capacity, std::chrono::nanoseconds retention = 70min) {
  return fw::idempotency_store::create({.capacity = capacity, .retention = retention}).value();
}

fw::sighting remember(fw::idempotency_store& store, std::string_view id, fw::timestamp published, fw::timestamp now) {
  const fw::result<fw::remember_result> r = store.remember(id, published, now);
  REQUIRE(r.has_value());
  return r->verdict;
}

std::string id_number(std::size_t n) { return std::to_string(7000000000000000 + n); }

}  // namespace

TEST_CASE("SipHash of an empty view with a null pointer is the empty message's") {
  const fw::detail::siphash::key k{0x0706050403020100ull, 0x0f0e0d0c0b0a0908ull};
  const std::string empty;
  CHECK(fw::detail::siphash::hash(k, std::string_view{}) == fw::detail::siphash::hash(k, std::string_view{empty}));
}

TEST_CASE("SipHash-2-4 matches the reference vectors") {
  // Key 00..0f; message i is the bytes 00, 01, ..., i-1 (vectors.h of the
  // SipHash reference implementation, and the paper's Appendix A for 15).
  const fw::detail::siphash::key key{0x0706050403020100ull, 0x0f0e0d0c0b0a0908ull};
  const std::pair<std::size_t, std::uint64_t> vectors[] = {
      {0, 0x726fdb47dd0e0e31ull},  {1, 0x74f839c593dc67fdull},  {2, 0x0d6c8009d9a94f5aull},
      {3, 0x85676696d7fb7e2dull},  {4, 0xcf2794e0277187b7ull},  {5, 0x18765564cd99a68dull},
      {6, 0xcbc9466e58fee3ceull},  {7, 0xab0200f58b01d137ull},  {8, 0x93f5f5799a932462ull},
      {9, 0x9e0082df0ba9e4b0ull},  {15, 0xa129ca6149be45e5ull},
  };
  char message[64];
  for (std::size_t i = 0; i < sizeof message; ++i) message[i] = static_cast<char>(i);
  for (const auto& vector : vectors) {  // (no structured binding: clang 14 cannot CAPTURE one)
    const std::size_t length = vector.first;
    CAPTURE(length);
    CHECK(fw::detail::siphash::hash(key, std::string_view{message, length}) == vector.second);
  }
  // Two stores draw different keys, so their tags for one id differ.
  const auto a = fw::detail::siphash::random_key(), b = fw::detail::siphash::random_key();
  CHECK((a.k0 != b.k0 || a.k1 != b.k1));
}

TEST_CASE("first time, then duplicate, for as long as the retention") {
  fw::idempotency_store store = make_store(1000);
  const fw::timestamp published = at("2026-11-20T09:00:00Z");
  CHECK(remember(store, "7000000000000001", published, published + 1s) == fw::sighting::first_time);
  CHECK(remember(store, "7000000000000001", published, published + 2s) == fw::sighting::duplicate);
  CHECK(remember(store, "7000000000000002", published, published + 2s) == fw::sighting::first_time);
  // Exactly at publish_time + retention the id is still held (inclusive, as
  // freshness is); one nanosecond later it has expired.
  CHECK(store.contains("7000000000000001", published + 70min));
  CHECK(remember(store, "7000000000000001", published, published + 70min) == fw::sighting::duplicate);
  CHECK_FALSE(store.contains("7000000000000001", published + 70min + 1ns));
  CHECK(remember(store, "7000000000000001", published, published + 70min + 1ns) == fw::sighting::first_time);
  CHECK(store.evicted_unexpired() == 0);
}

TEST_CASE("a clock going backwards keeps ids longer, never shorter") {
  fw::idempotency_store store = make_store(100);
  const fw::timestamp published = at("2026-11-20T09:00:00Z");
  CHECK(remember(store, "m", published, published + 60min) == fw::sighting::first_time);
  // The clock steps back an hour: the id is still held.
  CHECK(remember(store, "m", published, published) == fw::sighting::duplicate);
  CHECK(remember(store, "m", published, published - 5min) == fw::sighting::duplicate);
  CHECK(store.contains("m", published + 69min));
}

TEST_CASE("a later publish_time for the same id extends its retention") {
  fw::idempotency_store store = make_store(100);
  const fw::timestamp first = at("2026-11-20T09:00:00Z");
  CHECK(remember(store, "m", first, first) == fw::sighting::first_time);
  CHECK(remember(store, "m", first + 30min, first + 30min) == fw::sighting::duplicate);
  CHECK(store.contains("m", first + 100min));
  CHECK_FALSE(store.contains("m", first + 100min + 1ns));
  // An earlier one does not shorten it.
  CHECK(remember(store, "m", first - 30min, first + 31min) == fw::sighting::duplicate);
  CHECK(store.contains("m", first + 100min));
}

TEST_CASE("a full store evicts the entry closest to expiry and reports it") {
  // 15 entries: one bucket, so both of an id's choices are that bucket.
  fw::idempotency_store store = make_store(15);
  REQUIRE(store.capacity() == 15);
  const fw::timestamp t0 = at("2026-11-20T09:00:00Z");
  for (std::size_t i = 0; i < 15; ++i) {
    const fw::result<fw::remember_result> r = store.remember(id_number(i), t0 + std::chrono::seconds(i), t0 + 20s);
    REQUIRE(r);
    CHECK(r->verdict == fw::sighting::first_time);
    CHECK_FALSE(r->evicted_unexpired);
  }
  CHECK(store.evicted_unexpired() == 0);
  // A 16th unexpired id pushes out id 0, the one published first.
  const fw::result<fw::remember_result> sixteenth = store.remember(id_number(15), t0 + 15s, t0 + 20s);
  REQUIRE(sixteenth);
  CHECK(sixteenth->verdict == fw::sighting::first_time);
  CHECK(sixteenth->evicted_unexpired);
  CHECK(store.evicted_unexpired() == 1);
  CHECK_FALSE(store.contains(id_number(0), t0 + 20s));
  for (std::size_t i = 1; i <= 15; ++i) CHECK(store.contains(id_number(i), t0 + 20s));
  // The hole is real, and was reported: id 0 is a first sighting again.
  CHECK(remember(store, id_number(0), t0, t0 + 20s) == fw::sighting::first_time);
  CHECK(store.evicted_unexpired() == 2);

  // Once entries expire, their room is reused without any report.
  const fw::timestamp later = t0 + 15s + 70min + 1ns;  // every id above has expired
  for (std::size_t i = 100; i < 130; ++i) CHECK(remember(store, id_number(i), later, later) == fw::sighting::first_time);
  CHECK(store.evicted_unexpired() == 2 + 15);  // the second 15 evicted the first 15, all unexpired
}

TEST_CASE("expired entries are reused before any unexpired one is evicted") {
  fw::idempotency_store store = make_store(15, 10min);
  const fw::timestamp t0 = at("2026-11-20T09:00:00Z");
  for (std::size_t i = 0; i < 14; ++i) CHECK(remember(store, id_number(i), t0, t0) == fw::sighting::first_time);
  CHECK(remember(store, "late", t0 + 9min, t0 + 9min) == fw::sighting::first_time);
  // At t0 + 10min + 1ns the first 14 have expired, "late" has not: 14 new ids
  // fit without evicting it.
  const fw::timestamp now = t0 + 10min + 1ns;
  for (std::size_t i = 100; i < 114; ++i) {
    const fw::result<fw::remember_result> r = store.remember(id_number(i), now, now);
    REQUIRE(r);
    CHECK_FALSE(r->evicted_unexpired);
  }
  CHECK(store.contains("late", now));
  CHECK(store.evicted_unexpired() == 0);
}

TEST_CASE("an id already past its retention takes no room and evicts nothing") {
  fw::idempotency_store store = make_store(15, 10min);
  const fw::timestamp t0 = at("2026-11-20T09:00:00Z");
  for (std::size_t i = 0; i < 15; ++i) CHECK(remember(store, id_number(i), t0, t0) == fw::sighting::first_time);
  // Full of live ids; one published 10 minutes and 1 ns before now is dead
  // on arrival: answered first_time, not kept, and nothing is pushed out.
  const fw::timestamp now = t0 + 1min;
  const fw::result<fw::remember_result> dead = store.remember("dead", now - 10min - 1ns, now);
  REQUIRE(dead);
  CHECK(dead->verdict == fw::sighting::first_time);
  CHECK_FALSE(dead->evicted_unexpired);
  CHECK(store.evicted_unexpired() == 0);
  CHECK_FALSE(store.contains("dead", now));
  for (std::size_t i = 0; i < 15; ++i) CHECK(store.contains(id_number(i), now));
  // Exactly at the end of its retention it is still kept (and evicts).
  const fw::result<fw::remember_result> edge = store.remember("edge", now - 10min, now);
  REQUIRE(edge);
  CHECK(edge->evicted_unexpired);
  CHECK(store.contains("edge", now));
}

TEST_CASE("two choices keep a store at half load free of evictions") {
  // Steady state: 61440 entries of capacity (2^15 asked, rounded up to 4096
  // buckets); each id is held for 1000 s, during which capacity/2 other ids
  // arrive, so about half the entries are live at any time. A single
  // 15-entry bucket per id would overflow ~1% of the time at this load;
  // choosing the emptier of two buckets should not overflow at all.
  fw::idempotency_store store = make_store(std::size_t{1} << 15, 1000s);
  const std::size_t live = store.capacity() / 2;
  const fw::timestamp t0 = at("2026-11-20T09:00:00Z");
  const auto step = std::chrono::nanoseconds{1000s} / live;
  for (std::size_t i = 0; i < 8 * live; ++i) {
    const fw::timestamp now = t0 + step * static_cast<std::int64_t>(i);
    CHECK(remember(store, id_number(i), now, now) == fw::sighting::first_time);
  }
  CHECK(store.evicted_unexpired() == 0);
}

TEST_CASE("ids of any content; empty and over-long ids are refused") {
  fw::idempotency_store store = fw::idempotency_store::create({.capacity = 64, .max_id_size = 32}).value();
  const fw::timestamp t0 = at("2026-11-20T09:00:00Z");
  CHECK(store.remember("", t0, t0).error() == fw::errc::message_id_empty);
  CHECK(store.remember(std::string(33, 'x'), t0, t0).error() == fw::errc::message_id_too_long);
  CHECK(remember(store, std::string(32, 'x'), t0, t0) == fw::sighting::first_time);
  // Ids that differ in one byte, or only by a NUL or length, are different.
  const std::string with_nul("ab\0c", 4);
  for (const std::string_view id : {std::string_view{"ab"}, std::string_view{"abc"}, std::string_view{with_nul},
                                    std::string_view{"ab\0", 3}, std::string_view{"\xff\xfe"}}) {
    CAPTURE(id);
    CHECK(remember(store, id, t0, t0) == fw::sighting::first_time);
  }
  CHECK(remember(store, with_nul, t0, t0) == fw::sighting::duplicate);
  CHECK(std::error_code(fw::errc::message_id_too_long) == fw::error_kind::envelope);
}

TEST_CASE("forget makes the next delivery of an id a first sighting") {
  fw::idempotency_store store = make_store(64);
  const fw::timestamp t0 = at("2026-11-20T09:00:00Z");
  CHECK(remember(store, "m", t0, t0) == fw::sighting::first_time);
  CHECK(store.forget("m"));
  CHECK_FALSE(store.forget("m"));
  CHECK_FALSE(store.contains("m", t0));
  CHECK(remember(store, "m", t0, t0) == fw::sighting::first_time);
  CHECK(remember(store, "m", t0, t0) == fw::sighting::duplicate);
}

TEST_CASE("sizes: rounded-up capacity, bytes per entry, bad options") {
  CHECK(fw::idempotency_store::bytes_per_entry == 17);  // 256-byte buckets of 15
  CHECK(make_store(1).capacity() == 15);
  CHECK(make_store(16).capacity() == 30);
  CHECK(make_store(100000).capacity() == 8192 * 15);
  CHECK(fw::idempotency_store::create({.capacity = 0}).error() == fw::errc::store_capacity_invalid);
  CHECK(fw::idempotency_store::create({.capacity = (std::size_t{1} << 30) + 1}).error() ==
        fw::errc::store_capacity_invalid);
  CHECK(fw::idempotency_store::create({.max_id_size = 0}).error() == fw::errc::store_capacity_invalid);
  CHECK(fw::idempotency_store::create({.retention = 0ns}).error() == fw::errc::window_invalid);
  CHECK(fw::idempotency_store::create({.retention = fw::max_window + 1ns}).error() == fw::errc::window_invalid);
  const fw::idempotency_store defaults = fw::idempotency_store::create().value();
  CHECK(defaults.capacity() >= 65536);
  CHECK(defaults.retention() == fw::freshness{}.retention());
  CHECK(defaults.max_id_size() == 256);
}

TEST_CASE("a moved store keeps its ids and counters") {
  fw::idempotency_store store = make_store(15);
  const fw::timestamp t0 = at("2026-11-20T09:00:00Z");
  for (std::size_t i = 0; i < 16; ++i) (void)store.remember(id_number(i), t0, t0);
  REQUIRE(store.evicted_unexpired() == 1);
  fw::idempotency_store moved = std::move(store);
  CHECK(moved.evicted_unexpired() == 1);
  CHECK(moved.contains(id_number(15), t0));
  CHECK(remember(moved, id_number(15), t0, t0) == fw::sighting::duplicate);
}
