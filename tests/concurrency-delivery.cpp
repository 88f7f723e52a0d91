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
  std::atomic<int> handled{0}, duplicates{0}, in_progress{0}, other{0};
  run_threads(2, [&](int t) {
    for (int k = 0; k < count; ++k) {
      const int i = t == 0 ? k : count - 1 - k;
      const fw::delivery d =
          receiver.receive(fw::delivery_request::from_text(t == 0 ? "192.0.2.1" : "2001:db8::1", bodies[i], signatures[i]),
                           [&](const auto&) { handled.fetch_add(1); });
      if (d.outcome == fw::outcome::duplicate) {
        duplicates.fetch_add(1);
      } else if (d.outcome == fw::outcome::in_progress) {  // the other thread's handler was running
        in_progress.fetch_add(1);
      } else if (d.outcome != fw::outcome::accepted) {
        other.fetch_add(1);
      }
    }
  });
  CHECK(other.load() == 0);
  // Each message_id is accepted by one thread and a duplicate (or, met
  // mid-flight, in_progress) for the other.
  CHECK(handled.load() == count);
  CHECK(duplicates.load() + in_progress.load() == count);
}

TEST_CASE("copies racing with confirm and retract: never duplicate before a confirm, kept exactly once") {
  const fw::signing_key key = fw::signing_key::from_base64("aW4tZmxpZ2h0IHJhY2Uga2V5").value();
  fw::manual_clock clock{t0 + 1min};
  fw::receiver receiver = fw::receiver::create(fw::keyring{key}, fw::source_allowlist::parse("0.0.0.0/0").value(),
                                               {.clock = fw::clock{clock}})
                              .value();
  const int count = sanitized ? 400 : 4000;
  std::vector<std::string> bodies, signatures;
  for (int i = 0; i < count; ++i) {
    // Every third delivery is a consent event, of its own consent.
    const char* event = i % 3 == 0 ? "consent.revoked" : "banking.accounts.sync.completed";
    bodies.push_back(R"({"publish_time":"2026-11-20T09:00:00Z","message_id":"race-)" + std::to_string(i) +
                     R"(","data":{"event":")" + event + R"(","consent_id":"consent-)" + std::to_string(i) + R"("}})");
    signatures.emplace_back(fw::sign(key, bodies.back()).view());
  }
  std::vector<std::atomic<int>> confirming(static_cast<std::size_t>(count)), kept(static_cast<std::size_t>(count));
  std::atomic<int> early_duplicates{0}, refused{0};
  const auto settle_kept = [&](std::size_t i, const fw::delivery& d) {
    confirming[i].fetch_add(1);  // before confirm: a copy may see duplicate as soon as it starts
    if (receiver.confirm(d)) kept[i].fetch_add(1);
  };
  const auto judge = [&](std::size_t i, const fw::delivery& d) {
    if (d.outcome == fw::outcome::duplicate && confirming[i].load() == 0) early_duplicates.fetch_add(1);
    if (d.outcome != fw::outcome::duplicate && d.outcome != fw::outcome::in_progress &&
        d.outcome != fw::outcome::accepted)
      refused.fetch_add(1);
  };
  run_threads(2, [&](int t) {
    fw::parser p;
    for (int round = 0; round < (t == 0 ? 1 : 3); ++round) {
      for (int k = 0; k < count; ++k) {
        const auto i = static_cast<std::size_t>(t == 0 ? k : count - 1 - k);
        const fw::delivery_request request = fw::delivery_request::from_text("192.0.2.1", bodies[i], signatures[i]);
        fw::delivery d = receiver.admit(p, request);
        judge(i, d);
        if (d.outcome != fw::outcome::accepted) continue;
        if (t == 0 && i % 2 == 1) {
          // The first writer fails: retract, then retry until someone keeps it.
          CHECK(receiver.retract(d));
          for (;;) {
            d = receiver.admit(p, request);
            judge(i, d);
            if (d.outcome == fw::outcome::accepted) {
              settle_kept(i, d);
              break;
            }
            if (d.outcome == fw::outcome::duplicate) break;
            std::this_thread::yield();
          }
        } else {
          settle_kept(i, d);
        }
      }
    }
  });
  CHECK(early_duplicates.load() == 0);
  CHECK(refused.load() == 0);
  int kept_once = 0;
  for (int i = 0; i < count; ++i) kept_once += kept[static_cast<std::size_t>(i)].load() == 1 ? 1 : 0;
  CHECK(kept_once == count);
}

TEST_CASE("key rotation while two threads receive: atomic per request, the store and the tracker kept") {
  const fw::signing_key old_key = fw::signing_key::from_base64("b2xkIGNvbmN1cnJlbmN5IHNlY3JldA==").value();
  const fw::signing_key new_key = fw::signing_key::from_base64("bmV3IGNvbmN1cnJlbmN5IHNlY3JldA==").value();
  fw::manual_clock clock{t0 + 1min};
  fw::receiver receiver = fw::receiver::create(fw::keyring{old_key}, fw::source_allowlist::parse("192.0.2.0/24, 2001:db8::/32").value(),
                                               {.clock = fw::clock{clock}})
                              .value();
  const auto body_of = [](const std::string& id, int i) {
    const char* event = i % 4 == 0 ? "consent.revoked" : "banking.accounts.sync.completed";
    return R"({"publish_time":"2026-11-20T09:00:00Z","message_id":")" + id + R"(","data":{"event":")" + event +
           R"(","consent_id":"consent-)" + id + R"("}})";
  };
  const int count = sanitized ? 300 : 3000;

  // Before the rotation: ids seen under the old key alone.
  std::vector<std::string> before;
  fw::parser setup;
  for (int i = 0; i < count / 4; ++i) {
    before.push_back(body_of("before-" + std::to_string(i), i));
    const std::string sig{fw::sign(old_key, before.back()).view()};
    REQUIRE(receiver.confirm(receiver.admit(setup, fw::delivery_request::from_text("192.0.2.9", before.back(), sig))));
  }

  // During: every delivery is signed with one of the two keys, and the
  // rotating thread only ever installs keyrings holding both, in either
  // order (and allowlists holding both sources): so every delivery must be
  // accepted or a duplicate, never refused, and its key_index must be the
  // signing key's position in one of the two keyrings.
  std::vector<std::string> during, during_signatures;
  std::vector<int> signed_by_new;
  for (int i = 0; i < count; ++i) {
    const bool by_new = i % 2 == 1;
    during.push_back(body_of("during-" + std::to_string(i), i));
    during_signatures.emplace_back(fw::sign(by_new ? new_key : old_key, during.back()).view());
    signed_by_new.push_back(by_new ? 1 : 0);
  }
  std::vector<std::string> before_resigned;  // the ids seen before, re-signed with the new key
  for (const std::string& b : before) before_resigned.emplace_back(fw::sign(new_key, b).view());

  // The first step of a rotation, as a gateway makes it: both keys.
  REQUIRE(receiver.replace_keys(fw::keyring{new_key, old_key}));
  std::atomic<int> receiving{2};
  std::atomic<int> accepted{0}, duplicates{0}, in_progress{0}, refused{0}, replays_accepted{0}, rotations{0};
  run_threads(3, [&](int t) {
    if (t == 2) {
      const fw::keyring both_new_first{new_key, old_key}, both_old_first{old_key, new_key};
      const fw::source_allowlist wide = fw::source_allowlist::parse("192.0.2.0/24, 2001:db8::/32").value();
      const fw::source_allowlist narrow = fw::source_allowlist::parse("192.0.2.1/32, 2001:db8::1/128").value();
      for (int round = 0; receiving.load() > 0 || round < 2; ++round) {
        CHECK(receiver.replace_keys(round % 2 == 0 ? both_new_first : both_old_first));
        receiver.replace_allowlist(round % 3 == 0 ? narrow : wide);
        rotations.fetch_add(1, std::memory_order_relaxed);
        std::this_thread::yield();
      }
      return;
    }
    // Start once the rotating thread is running, so that they overlap.
    while (rotations.load() == 0) std::this_thread::yield();
    fw::parser own;
    const char* source = t == 0 ? "192.0.2.1" : "2001:db8::1";
    for (int k = 0; k < count; ++k) {
      const int i = t == 0 ? k : count - 1 - k;
      const fw::delivery_request request = fw::delivery_request::from_text(source, during[i], during_signatures[i]);
      // One thread passes its parser, the other uses the thread_local one.
      const fw::delivery d = t == 0 ? receiver.admit(own, request) : receiver.receive(request, [](const auto&) {});
      if (t == 0) (void)receiver.confirm(d);
      if (d.outcome == fw::outcome::accepted) {
        accepted.fetch_add(1);
      } else if (d.outcome == fw::outcome::duplicate) {
        duplicates.fetch_add(1);
      } else if (d.outcome == fw::outcome::in_progress) {  // met the other thread's copy mid-flight
        in_progress.fetch_add(1);
      } else {
        refused.fetch_add(1);
      }
      // Under {new, old} a new-key signature is index 0; under {old, new}, 1.
      if (!d.key_index || *d.key_index > 1) refused.fetch_add(1);
      // Replays of the ids seen before the rotation, under either key.
      const std::size_t j = static_cast<std::size_t>(k) % before.size();
      const fw::delivery replay =
          receiver.admit(own, fw::delivery_request::from_text(source, before[j], k % 2 == 0 ? before_resigned[j]
                                                                                            : std::string_view{}));
      if (k % 2 == 0 && replay.outcome != fw::outcome::duplicate) replays_accepted.fetch_add(1);
      if (k % 2 == 1 && replay.outcome != fw::outcome::bad_signature) replays_accepted.fetch_add(1);
    }
    receiving.fetch_sub(1);
  });
  CHECK(rotations.load() >= 2);
  CHECK(refused.load() == 0);
  CHECK(replays_accepted.load() == 0);
  CHECK(accepted.load() == count);
  CHECK(duplicates.load() + in_progress.load() == count);

  // After: the new key alone.
  REQUIRE(receiver.replace_keys(fw::keyring{new_key}));
  receiver.replace_allowlist(fw::source_allowlist::parse("192.0.2.0/24").value());
  fw::parser after;
  for (std::size_t j = 0; j < before.size(); ++j) {
    CAPTURE(j);
    // Seen before the rotation: still a duplicate, whichever key signs it now.
    CHECK(receiver.admit(after, fw::delivery_request::from_text("192.0.2.7", before[j], before_resigned[j])).outcome ==
          fw::outcome::duplicate);
  }
  const std::string fresh = body_of("after-1", 1);
  CHECK(receiver.admit(after, fw::delivery_request::from_text("192.0.2.7", fresh, fw::sign(new_key, fresh).view()))
            .outcome == fw::outcome::accepted);
  const std::string stale_key = body_of("after-2", 1);
  CHECK(receiver.admit(after, fw::delivery_request::from_text("192.0.2.7", stale_key, fw::sign(old_key, stale_key).view()))
            .outcome == fw::outcome::bad_signature);
  // A revocation from before the rotation still holds.
  const std::string late_update = R"({"publish_time":"2026-11-20T09:00:01Z","message_id":"after-3","data":{"event":"consent.updated","consent_id":"consent-before-0"}})";
  CHECK(receiver.admit(after, fw::delivery_request::from_text("192.0.2.7", late_update, fw::sign(new_key, late_update).view()))
            .outcome == fw::outcome::after_revocation);
}
