// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
//
// The idempotency store, the consent tracker and the receiver under threads.
// Run in CI under ThreadSanitizer too (meson test --suite concurrency), where
// a data race in any of them is reported, besides the verdicts checked here.
#include <doctest/doctest.h>

#include <fiskil/webhooks.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace fw = fiskil::webhooks;
using namespace std::chrono_literals;

namespace {

#if defined(__SANITIZE_THREAD__)
constexpr bool sanitized = true;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
constexpr bool sanitized = true;
#else
constexpr bool sanitized = false;
#endif
#else
constexpr bool sanitized = false;
#endif

// ThreadSanitizer slows every access down; fewer rounds keep a run short.
constexpr int race_rounds = sanitized ? 4000 : 40000;

fw::timestamp at(std::string_view text) { return fw::parse_rfc3339(text).value(); }
const fw::timestamp t0 = at("2026-11-20T09:00:00Z");

// spin_barrier releases its threads within nanoseconds of each other, so
// that the operations after it really overlap (a futex-based barrier wakes
// threads microseconds apart, and the race would rarely happen).
class spin_barrier {
 public:
  explicit spin_barrier(int threads) : threads_(threads) {}
  void arrive_and_wait() {
    const int generation = generation_.load(std::memory_order_acquire);
    if (arrived_.fetch_add(1, std::memory_order_acq_rel) + 1 == threads_) {
      arrived_.store(0, std::memory_order_relaxed);
      generation_.fetch_add(1, std::memory_order_acq_rel);
      return;
    }
    // Spin briefly, then yield: the machine's cores may be busy elsewhere,
    // and the thread being waited for needs one to arrive.
    for (int spins = 0; generation_.load(std::memory_order_acquire) == generation; ++spins) {
      if (spins < 256) {
        fw::detail::cpu_relax();
      } else {
        std::this_thread::yield();
      }
    }
  }

 private:
  const int threads_;
  std::atomic<int> arrived_{0};
  std::atomic<int> generation_{0};
};

// run_threads runs body(thread_index) on `threads` threads and joins them.
void run_threads(int threads, const std::function<void(int)>& body) {
  std::vector<std::thread> running;
  for (int t = 0; t < threads; ++t) running.emplace_back(body, t);
  for (std::thread& thread : running) thread.join();
}

std::vector<std::string> make_ids(std::size_t count, const char* prefix) {
  std::vector<std::string> ids;
  for (std::size_t i = 0; i < count; ++i) ids.push_back(prefix + std::to_string(i));
  return ids;
}

}  // namespace

TEST_CASE("two threads racing on one id: exactly one sees first_time, every round") {
  fw::idempotency_store store = fw::idempotency_store::create({.capacity = std::size_t{1} << 17}).value();
  const std::vector<std::string> ids = make_ids(race_rounds, "race-");
  std::vector<std::uint8_t> first[2] = {std::vector<std::uint8_t>(race_rounds), std::vector<std::uint8_t>(race_rounds)};
  spin_barrier barrier(2);
  run_threads(2, [&](int t) {
    for (int round = 0; round < race_rounds; ++round) {
      barrier.arrive_and_wait();
      first[t][round] = store.remember(ids[round], t0, t0)->verdict == fw::sighting::first_time;
    }
  });
  int exactly_one = 0;
  for (int round = 0; round < race_rounds; ++round) exactly_one += first[0][round] + first[1][round] == 1;
  CHECK(exactly_one == race_rounds);
  CHECK(store.evicted_unexpired() == 0);
}

TEST_CASE("both cores hammering one store: each id is a first sighting exactly once") {
  constexpr int threads = 2;
  const std::size_t count = sanitized ? 20000 : 200000;
  fw::idempotency_store store = fw::idempotency_store::create({.capacity = count * 2}).value();
  const std::vector<std::string> ids = make_ids(count, "hammer-");
  std::vector<std::vector<std::uint8_t>> first(threads, std::vector<std::uint8_t>(count));
  run_threads(threads, [&](int t) {
    // Every thread offers every id, in its own order, twice.
    std::vector<std::size_t> order(count);
    for (std::size_t i = 0; i < count; ++i) order[i] = i;
    std::shuffle(order.begin(), order.end(), std::mt19937(static_cast<unsigned>(t)));
    for (int pass = 0; pass < 2; ++pass) {
      for (const std::size_t i : order) {
        const fw::result<fw::remember_result> r = store.remember(ids[i], t0, t0 + 1s);
        if (r->verdict == fw::sighting::first_time) first[t][i] += 1;
      }
    }
  });
  std::size_t exactly_once = 0;
  for (std::size_t i = 0; i < count; ++i) {
    int total = 0;
    for (int t = 0; t < threads; ++t) total += first[t][i];
    exactly_once += total == 1;
  }
  CHECK(exactly_once == count);
  CHECK(store.evicted_unexpired() == 0);
}

TEST_CASE("a store too small under contention reports every eviction it makes") {
  constexpr int threads = 2;
  const std::size_t per_thread = sanitized ? 5000 : 50000;
  fw::idempotency_store store = fw::idempotency_store::create({.capacity = 60}).value();
  std::atomic<std::uint64_t> reported{0}, first{0};
  run_threads(threads, [&](int t) {
    const std::vector<std::string> ids = make_ids(per_thread, t == 0 ? "a-" : "b-");
    for (const std::string& id : ids) {
      const fw::result<fw::remember_result> r = store.remember(id, t0, t0);
      first.fetch_add(r->verdict == fw::sighting::first_time, std::memory_order_relaxed);
      reported.fetch_add(r->evicted_unexpired, std::memory_order_relaxed);
    }
  });
  CHECK(first.load() == threads * per_thread);  // all distinct
  CHECK(reported.load() == store.evicted_unexpired());
  CHECK(reported.load() >= threads * per_thread - store.capacity());
}

TEST_CASE("consent tracker races: one winner per event; revocation always wins") {
  fw::consent_tracker tracker = fw::consent_tracker::create({.capacity = std::size_t{1} << 16}).value();
  const std::vector<std::string> same = make_ids(race_rounds, "same-");
  const std::vector<std::string> versus = make_ids(race_rounds, "versus-");
  std::vector<fw::consent_order> same_verdict[2] = {std::vector<fw::consent_order>(race_rounds),
                                                   std::vector<fw::consent_order>(race_rounds)};
  std::vector<fw::consent_order> revoke_verdict(race_rounds), update_verdict(race_rounds);
  spin_barrier barrier(2);
  run_threads(2, [&](int t) {
    for (int round = 0; round < race_rounds; ++round) {
      barrier.arrive_and_wait();
      same_verdict[t][round] = tracker.observe(same[round], fw::consent_change::received, t0, t0)->verdict;
      barrier.arrive_and_wait();
      // A revocation races with an update published after it.
      if (t == 0) {
        revoke_verdict[round] = tracker.observe(versus[round], fw::consent_change::revoked, t0, t0)->verdict;
      } else {
        update_verdict[round] = tracker.observe(versus[round], fw::consent_change::updated, t0 + 1s, t0)->verdict;
      }
    }
  });
  int one_newer = 0, revoked_applied = 0, update_consistent = 0, final_revoked = 0;
  for (int round = 0; round < race_rounds; ++round) {
    const bool a = same_verdict[0][round] == fw::consent_order::newer;
    const bool b = same_verdict[1][round] == fw::consent_order::newer;
    const bool other_duplicate = (a ? same_verdict[1][round] : same_verdict[0][round]) == fw::consent_order::duplicate;
    one_newer += (a != b) && other_duplicate;
    revoked_applied += revoke_verdict[round] == fw::consent_order::newer;
    update_consistent += update_verdict[round] == fw::consent_order::newer ||
                         update_verdict[round] == fw::consent_order::after_revocation;
    final_revoked += tracker.latest(versus[round])->change == fw::consent_change::revoked;
  }
  CHECK(one_newer == race_rounds);
  CHECK(revoked_applied == race_rounds);
  CHECK(update_consistent == race_rounds);
  CHECK(final_revoked == race_rounds);
}

TEST_CASE("one receiver, two threads, thread_local parsers: each delivery accepted exactly once") {
  const fw::signing_key key = fw::signing_key::from_base64("dGVzdC1vbmx5IGNvbmN1cnJlbmN5IHNlY3JldA==").value();
  fw::manual_clock clock{t0 + 1min};
  fw::receiver receiver = fw::receiver::create(fw::keyring{key}, fw::source_allowlist::parse("::/0, 0.0.0.0/0").value(),
                                               {.clock = fw::clock{clock}})
                              .value();
  const int count = sanitized ? 300 : 3000;
  std::vector<std::string> bodies, signatures;
  for (int i = 0; i < count; ++i) {
    const char* event = i % 4 == 0 ? "consent.updated" : "banking.accounts.sync.completed";
    bodies.push_back(R"({"publish_time":"2026-11-20T09:00:00Z","message_id":"conc-)" + std::to_string(i) +
                     R"(","data":{"event":")" + event + R"(","consent_id":"consent-)" + std::to_string(i) +
                     R"(","account_ids":["a"]}})");
    signatures.emplace_back(fw::sign(key, bodies.back()).view());
  }
  std::atomic<int> handled{0}, duplicates{0}, other{0};
  run_threads(2, [&](int t) {
    for (int k = 0; k < count; ++k) {
      const int i = t == 0 ? k : count - 1 - k;
      const fw::delivery d = receiver.receive({t == 0 ? "192.0.2.1" : "2001:db8::1", bodies[i], signatures[i]},
                                              [&](const auto&) { handled.fetch_add(1); });
      if (d.outcome == fw::outcome::duplicate) {
        duplicates.fetch_add(1);
      } else if (d.outcome != fw::outcome::accepted) {
        other.fetch_add(1);
      }
    }
  });
  CHECK(other.load() == 0);
  // Each message_id is accepted by one thread and a duplicate for the other.
  CHECK(handled.load() == count);
  CHECK(duplicates.load() == count);
}
