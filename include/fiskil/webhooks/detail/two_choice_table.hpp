// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
//
// The fixed-capacity, thread-safe table under fw::idempotency_store and
// fw::consent_tracker.
//
// Keyed 64-bit tags in buckets of 15 with a one-byte spin lock each; an id
// lives in the emptier of its two buckets; expired entries are reused first,
// and an unexpired one is evicted (and reported) only when both buckets are
// full. One allocation, at construction. The design and why:
// docs/design.md, "The table under the idempotency store and the consent
// tracker".
#pragma once

#include <algorithm>
#include <atomic>
#include <bit>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <new>
#include <string_view>
#include <thread>

#include "../error.hpp"
#include "../freshness.hpp"
#include "../result.hpp"
#include "siphash.hpp"

namespace fiskil::webhooks::detail {

inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

// spin_lock is a one-byte test-and-test-and-set lock for critical sections
// of a few tens of nanoseconds.
class spin_lock {
 public:
  void lock() noexcept {
    while (locked_.exchange(true, std::memory_order_acquire)) {
      for (unsigned spins = 0; locked_.load(std::memory_order_relaxed); ++spins) {
        if (spins < 128) {
          cpu_relax();
        } else {
          std::this_thread::yield();
        }
      }
    }
  }
  void unlock() noexcept { locked_.store(false, std::memory_order_release); }

 private:
  std::atomic<bool> locked_{false};
};

// never is the expiry of an empty entry: expired at every time.
inline constexpr std::int64_t never = std::numeric_limits<std::int64_t>::min();

// expiry_after is publish_ns + retention_ns, saturated (retention is bounded
// by fw::max_window, so this saturates only near the end of 2262).
constexpr std::int64_t expiry_after(std::int64_t publish_ns, std::int64_t retention_ns) noexcept {
  return publish_ns > std::numeric_limits<std::int64_t>::max() - retention_ns
             ? std::numeric_limits<std::int64_t>::max()
             : publish_ns + retention_ns;
}

inline constexpr std::size_t bucket_ways = 15;
// max_table_capacity bounds a table at 2^30 entries (bucket counts round up
// to a power of two: up to 32 GiB for the store, 64 GiB for the tracker),
// far beyond need, so that sizes never overflow.
inline constexpr std::size_t max_table_capacity = std::size_t{1} << 30;

template <class Slot>
struct alignas(64) bucket {
  spin_lock lock;
  // marks holds one bit per way, for the owner's use (the idempotency
  // store's "pending" state); it lives in padding, so it costs no memory.
  std::uint16_t marks = 0;
  std::uint64_t tags[bucket_ways];
  Slot slots[bucket_ways];
};

// two_choice_table holds Slots keyed by id. ExpiryOf is a small copyable
// callable: expiry_of(slot) is the slot's expiry in nanoseconds since the
// epoch, `never` for an empty slot.
template <class Slot, class ExpiryOf>
class two_choice_table {
 public:
  using bucket_type = bucket<Slot>;
  static constexpr std::size_t bytes_per_entry = sizeof(bucket_type) / bucket_ways;

  // create allocates room for at least capacity entries (rounded up to a
  // power of two of buckets), after checking the options every table's
  // owner takes. Errors: store_capacity_invalid (capacity 0 or over
  // max_table_capacity, max_id_size 0), window_invalid (retention not in
  // (0, fw::max_window]), out_of_memory.
  [[nodiscard]] static result<two_choice_table> create(std::size_t capacity, std::size_t max_id_size,
                                                       std::chrono::nanoseconds retention,
                                                       ExpiryOf expiry_of = {}) noexcept {
    if (capacity == 0 || capacity > max_table_capacity || max_id_size == 0) return errc::store_capacity_invalid;
    if (retention <= std::chrono::nanoseconds::zero() || retention > max_window) return errc::window_invalid;
    const std::size_t buckets = std::bit_ceil((capacity + bucket_ways - 1) / bucket_ways);
    two_choice_table made{expiry_of};
    made.buckets_.reset(new (std::nothrow) bucket_type[buckets]());
    if (!made.buckets_) return errc::out_of_memory;
    made.mask_ = buckets - 1;
    made.key_ = siphash::random_key();
    return made;
  }

  two_choice_table(two_choice_table&& other) noexcept
      : buckets_(std::move(other.buckets_)),
        mask_(other.mask_),
        key_(other.key_),
        expiry_of_(other.expiry_of_),
        evicted_unexpired_(other.evicted_unexpired_.load(std::memory_order_relaxed)) {}
  two_choice_table& operator=(two_choice_table&& other) noexcept {
    buckets_ = std::move(other.buckets_);
    mask_ = other.mask_;
    key_ = other.key_;
    expiry_of_ = other.expiry_of_;
    evicted_unexpired_.store(other.evicted_unexpired_.load(std::memory_order_relaxed),
                             std::memory_order_relaxed);
    return *this;
  }
  two_choice_table(const two_choice_table&) = delete;
  two_choice_table& operator=(const two_choice_table&) = delete;
  ~two_choice_table() = default;

  [[nodiscard]] std::size_t capacity() const noexcept { return (mask_ + 1) * bucket_ways; }
  [[nodiscard]] std::uint64_t evicted_unexpired() const noexcept {
    return evicted_unexpired_.load(std::memory_order_relaxed);
  }
  [[nodiscard]] std::uint64_t hash(std::string_view id) const noexcept { return siphash::hash(key_, id); }

  // entry is a slot found or claimed, with its tag and its mark bit.
  struct entry {
    std::uint64_t* tag;
    Slot* slot;
    std::uint16_t* marks = nullptr;
    std::uint16_t bit = 0;

    [[nodiscard]] bool marked() const noexcept { return (*marks & bit) != 0; }
    void mark(bool on) const noexcept { *marks = static_cast<std::uint16_t>(on ? (*marks | bit) : (*marks & ~bit)); }
  };

  // locked is the two buckets of one id, locked for as long as it lives.
  class locked {
   public:
    locked(const locked&) = delete;
    locked& operator=(const locked&) = delete;
    ~locked() {
      first_->lock.unlock();
      if (second_ != first_) second_->lock.unlock();
    }

    // find returns the occupied entry tagged tag, or a null entry.
    [[nodiscard]] entry find() noexcept {
      for (bucket_type* b : {first_, second_}) {
        for (std::size_t i = 0; i < bucket_ways; ++i) {
          if (b->tags[i] == tag_ && expiry_of_(b->slots[i]) != never) return entry_at(b, i);
        }
        if (second_ == first_) break;
      }
      return {nullptr, nullptr};
    }

    // claim returns an entry for the id, tagged and ready for the caller to
    // fill: an empty or expired one (at now_ns) from the bucket with fewer
    // unexpired entries, else the unexpired entry closest to expiry, in
    // which case evicted_unexpired is set and counted.
    [[nodiscard]] entry claim(std::int64_t now_ns, bool& evicted_unexpired) noexcept {
      const auto live = [this, now_ns](const bucket_type* b) {
        std::size_t count = 0;
        for (std::size_t i = 0; i < bucket_ways; ++i) count += expiry_of_(b->slots[i]) >= now_ns ? 1 : 0;
        return count;
      };
      bucket_type* target = first_;
      if (second_ != first_ && live(second_) < live(first_)) target = second_;
      for (std::size_t i = 0; i < bucket_ways; ++i) {
        if (expiry_of_(target->slots[i]) < now_ns) {
          evicted_unexpired = false;
          return take(target, i);
        }
      }
      // Both buckets hold only unexpired entries.
      bucket_type* victim_bucket = first_;
      std::size_t victim = 0;
      for (bucket_type* b : {first_, second_}) {
        for (std::size_t i = 0; i < bucket_ways; ++i) {
          if (expiry_of_(b->slots[i]) < expiry_of_(victim_bucket->slots[victim])) {
            victim_bucket = b;
            victim = i;
          }
        }
      }
      evicted_unexpired = true;
      counter_->fetch_add(1, std::memory_order_relaxed);
      return take(victim_bucket, victim);
    }

   private:
    friend class two_choice_table;
    locked(bucket_type* a, bucket_type* b, std::uint64_t tag, std::atomic<std::uint64_t>* counter,
           ExpiryOf expiry_of) noexcept
        : first_(a < b ? a : b), second_(a < b ? b : a), tag_(tag), counter_(counter), expiry_of_(expiry_of) {
      first_->lock.lock();
      if (second_ != first_) second_->lock.lock();
    }
    static entry entry_at(bucket_type* b, std::size_t i) noexcept {
      return {&b->tags[i], &b->slots[i], &b->marks, static_cast<std::uint16_t>(1u << i)};
    }
    entry take(bucket_type* b, std::size_t i) noexcept {
      b->tags[i] = tag_;
      b->slots[i] = Slot{};
      const entry taken = entry_at(b, i);
      taken.mark(false);
      return taken;
    }

    bucket_type* first_;
    bucket_type* second_;
    std::uint64_t tag_;
    std::atomic<std::uint64_t>* counter_;
    ExpiryOf expiry_of_;
  };

  // lock locks the two buckets where the id hashed to hash may live.
  [[nodiscard]] locked lock(std::uint64_t hash) noexcept {
    bucket_type* base = buckets_.get();
    const std::size_t a = static_cast<std::size_t>(hash) & mask_;
    const std::size_t b = static_cast<std::size_t>(std::rotl(hash, 32)) & mask_;
    return locked{base + a, base + b, hash, &evicted_unexpired_, expiry_of_};
  }

 private:
  explicit two_choice_table(ExpiryOf expiry_of) noexcept : expiry_of_(expiry_of) {}

  std::unique_ptr<bucket_type[]> buckets_;
  std::size_t mask_ = 0;
  siphash::key key_{};
  ExpiryOf expiry_of_;
  std::atomic<std::uint64_t> evicted_unexpired_{0};
};

}  // namespace fiskil::webhooks::detail
