// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
//
// Nanoseconds per operation of the delivery-semantics parts: the idempotency
// store and the consent tracker, on one thread and with two threads
// hammering the same instance; and the whole receiver per delivery.
//
//   meson setup build -Dbench=true && meson compile -C build bench/bench_delivery && build/bench/bench_delivery
//
// Times are real (wall-clock) time per operation per thread; items_per_second
// is the throughput of all threads together.
#include <benchmark/benchmark.h>

#include <fiskil/webhooks.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace fw = fiskil::webhooks;
using namespace std::chrono_literals;

namespace {

// The store and tracker hold 2^17 entries (about 2.2 MB and 4.5 MB: more
// than the L2 cache, as a busy gateway's would be).
constexpr std::size_t capacity = std::size_t{1} << 17;
constexpr std::size_t pool_size = std::size_t{1} << 20;
const fw::timestamp base = fw::parse_rfc3339("2026-11-20T09:00:00Z").value();
constexpr std::chrono::nanoseconds step = 1us;  // simulated time between one thread's operations

// ids are 16-digit numbers like the provider's message_ids.
const std::vector<std::string>& id_pool() {
  static const std::vector<std::string> pool = [] {
    std::vector<std::string> made;
    made.reserve(pool_size);
    for (std::size_t i = 0; i < pool_size; ++i) made.push_back(std::to_string(7000000000000000 + i * 7919));
    return made;
  }();
  return pool;
}

// consent ids are 36-byte UUIDs.
const std::vector<std::string>& consent_pool() {
  static const std::vector<std::string> pool = [] {
    std::vector<std::string> made;
    for (std::size_t i = 0; i < capacity / 2; ++i) {
      std::string id = "c0a5e5e0-0000-4000-8000-" + std::to_string(100000000000 + i);
      made.push_back(id);
    }
    return made;
  }();
  return pool;
}

std::optional<fw::idempotency_store> store;
std::optional<fw::consent_tracker> tracker;

// Retention chosen so that about half the store is live: the ids of the last
// capacity/2 operations of all threads together.
void make_store(const benchmark::State& state) {
  (void)id_pool();
  const auto retention = step * static_cast<std::int64_t>(capacity / 2 / static_cast<std::size_t>(state.threads()));
  store.emplace(fw::idempotency_store::create({.capacity = capacity, .retention = retention}).value());
}
void make_store_with_residents(const benchmark::State& state) {
  make_store(state);
  for (std::size_t i = 0; i < 4096; ++i) (void)store->remember(id_pool()[i], base + 1h, base);
}
void make_tracker(const benchmark::State&) {
  (void)consent_pool();
  tracker.emplace(fw::consent_tracker::create({.capacity = capacity, .retention = 10min}).value());
}
void drop(const benchmark::State&) {
  store.reset();
  tracker.reset();
}

// Every call is a first sighting: new ids, each published "now", while
// older ones expire and their room is reused, at half load.
void BM_store_first_time(benchmark::State& state) {
  const std::vector<std::string>& pool = id_pool();
  const auto threads = static_cast<std::size_t>(state.threads());
  std::size_t i = static_cast<std::size_t>(state.thread_index());
  fw::timestamp now = base;
  std::int64_t not_first = 0;
  for (auto _ : state) {
    const fw::result<fw::remember_result> r = store->remember(pool[i % pool_size], now, now);
    not_first += r->verdict != fw::sighting::first_time || r->evicted_unexpired;
    i += threads;
    now += step;
  }
  state.counters["not_first_or_evicted"] = static_cast<double>(not_first);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_store_first_time)->Setup(make_store)->Teardown(drop)->Threads(1)->Threads(2)->UseRealTime();

// Every call is a duplicate of one of 4096 resident ids.
void BM_store_duplicate(benchmark::State& state) {
  const std::vector<std::string>& pool = id_pool();
  std::size_t i = static_cast<std::size_t>(state.thread_index()) * 613;
  for (auto _ : state) {
    benchmark::DoNotOptimize(store->remember(pool[i & 4095], base + 1h, base));
    ++i;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_store_duplicate)->Setup(make_store_with_residents)->Teardown(drop)->Threads(1)->Threads(2)->UseRealTime();

// consent.updated events for 65536 consents, each newer than the last
// applied for its consent, with a received or a stale update now and then.
void BM_tracker_observe(benchmark::State& state) {
  const std::vector<std::string>& pool = consent_pool();
  const auto threads = static_cast<std::size_t>(state.threads());
  std::size_t i = static_cast<std::size_t>(state.thread_index());
  fw::timestamp now = base;
  std::int64_t newer = 0;
  for (auto _ : state) {
    const auto change = (i & 15) == 0 ? fw::consent_change::received : fw::consent_change::updated;
    const fw::timestamp published = (i & 7) == 3 ? now - 1s : now;
    newer += tracker->observe(pool[i % pool.size()], change, published, now)->verdict == fw::consent_order::newer;
    i += threads;
    now += step;
  }
  state.counters["newer"] = benchmark::Counter(static_cast<double>(newer), benchmark::Counter::kAvgIterations);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_tracker_observe)->Setup(make_tracker)->Teardown(drop)->Threads(1)->Threads(2)->UseRealTime();

// The whole receiver on a 270-byte consent.updated delivery: allowlist,
// verify, parse, freshness, idempotency, ordering (admit), dispatch, then
// retract instead of confirm, so that the next round is accepted again
// (retract costs what confirm does: two more table operations, included in
// the time).
struct receiver_setup {
  fw::signing_key key = fw::signing_key::from_base64("YmVuY2htYXJrIHNpZ25pbmcgc2VjcmV0").value();
  fw::manual_clock clock{base + 1min};
  std::optional<fw::receiver> receiver;
  std::vector<std::string> bodies, signatures;
};
std::optional<receiver_setup> receiving;

void make_receiver(const benchmark::State&) {
  receiving.emplace();
  receiving->receiver.emplace(fw::receiver::create(fw::keyring{receiving->key},
                                                   fw::source_allowlist::parse("203.0.113.0/24, 2001:db8::/32").value(),
                                                   {.clock = fw::clock{receiving->clock}})
                                  .value());
  for (int i = 0; i < 64; ++i) {
    receiving->bodies.push_back(
        R"({"publish_time":"2026-11-20T09:00:00.123Z","message_id":")" + std::to_string(7000000000000000 + i) +
        R"(","data":{"consent_id":"c0a5e5e0-0000-4000-8000-)" + std::to_string(100000000000 + i) +
        R"(","client_id":"2fwTestClient00000000000001","end_user_id":"2fwEndUser00000000000000001","event":"consent.updated","institution_id":"1"}})");
    receiving->signatures.emplace_back(fw::sign(receiving->key, receiving->bodies.back()).view());
  }
}
void drop_receiver(const benchmark::State&) { receiving.reset(); }

void BM_receiver_accept(benchmark::State& state) {
  std::size_t i = static_cast<std::size_t>(state.thread_index());
  const auto threads = static_cast<std::size_t>(state.threads());
  std::int64_t accepted = 0;
  for (auto _ : state) {
    const std::size_t n = i % receiving->bodies.size();
    // The peer as text, parsed per request (as before fw::ip_address requests).
    const fw::delivery d = receiving->receiver->admit(
        fw::detail::thread_parser(),
        fw::delivery_request::from_text("203.0.113.7", receiving->bodies[n], receiving->signatures[n]));
    if (d.outcome == fw::outcome::accepted) {
      ++accepted;
      fw::dispatch(*d.event, [](const fw::consent_updated& e) { benchmark::DoNotOptimize(e.consent_id); });
    }
    (void)receiving->receiver->retract(d);
    i += threads;
  }
  state.counters["accepted"] = benchmark::Counter(static_cast<double>(accepted), benchmark::Counter::kAvgIterations);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_receiver_accept)->Setup(make_receiver)->Teardown(drop_receiver)->Threads(1)->Threads(2)->UseRealTime();

// A duplicate delivery: the same path up to the idempotency store.
void BM_receiver_duplicate(benchmark::State& state) {
  const std::size_t n = static_cast<std::size_t>(state.thread_index());
  fw::parser parser;  // this benchmark thread's own
  (void)receiving->receiver->confirm(receiving->receiver->admit(
      parser, fw::delivery_request::from_text("203.0.113.7", receiving->bodies[n], receiving->signatures[n])));
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        receiving->receiver
            ->admit(parser, fw::delivery_request::from_text("203.0.113.7", receiving->bodies[n], receiving->signatures[n]))
            .outcome);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_receiver_duplicate)->Setup(make_receiver)->Teardown(drop_receiver)->Threads(1)->Threads(2)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
