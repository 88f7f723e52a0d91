// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
//
// The idempotency store: which message_ids have been seen recently.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "detail/two_choice_table.hpp"
#include "error.hpp"
#include "freshness.hpp"
#include "result.hpp"
#include "time.hpp"

namespace fiskil::webhooks {

template <std::size_t KeyCapacity, std::size_t RangeCapacity>
class basic_receiver;

// idempotency_store_options sizes an idempotency_store.
struct idempotency_store_options {
  // capacity is the number of ids held, rounded up (to a power of two of
  // 15-entry buckets). Size it at 1.5 times the deliveries expected within
  // one retention; evicted_unexpired() says when that was too few.
  std::size_t capacity = std::size_t{1} << 16;
  // retention is how long past its publish_time an id is remembered. It
  // must be at least the freshness window's retention() (max_age plus
  // max_future_skew), so that a replay is either stale or a duplicate.
  std::chrono::nanoseconds retention = freshness{}.retention();
  // max_id_size bounds a message_id in bytes (the provider's are 16 digits);
  // longer ones are refused with errc::message_id_too_long.
  std::size_t max_id_size = 256;
};

// sighting says whether an id was new to the store.
enum class sighting : std::uint8_t {
  first_time,   // recorded now: process the delivery
  duplicate,    // already recorded and unexpired: processed before, do nothing
  in_progress,  // recorded by a receiver's admit that is neither confirmed nor
                // retracted yet: the first copy is still being kept; retry later
};

// remember_result is the verdict of idempotency_store::remember.
struct remember_result {
  sighting verdict;
  // evicted_unexpired is true when recording this id pushed out another id
  // still inside its retention: a replay of that one would now be taken for
  // a first sighting. The store is too small for the traffic; it is also
  // counted in idempotency_store::evicted_unexpired().
  bool evicted_unexpired;
};

// idempotency_store is a fixed-capacity set of recently seen message_ids,
// safe for concurrent use by every thread of a gateway. remember(id, ...)
// answers first_time or duplicate and records the id in one atomic step: of
// two threads racing on one id, exactly one gets first_time. Ids are kept
// until publish_time + retention; when an id's two buckets hold only
// unexpired ids, the one closest to expiry is evicted and reported (in the
// result and in evicted_unexpired()), never silently.
//
// An id recorded by a receiver's admit is pending until the receiver
// confirms it (the delivery is kept) or retracts it (it is forgotten): a
// sighting of a pending id is in_progress, never duplicate. Ids recorded by
// remember() are confirmed at once.
//
// Memory: one allocation at create(), none after; bytes_per_entry (about 17)
// per entry. Ids are kept as keyed 64-bit tags: a new id is taken for a
// duplicate with probability at most 30 / 2^64 per call. The table's design
// and its numbers: docs/design.md. Moving a store is not thread-safe.
class idempotency_store {
  // A slot is the id's expiry in ns since the epoch; detail::never when empty.
  struct slot {
    std::int64_t expires_ns = detail::never;
  };
  struct expiry_of {
    std::int64_t operator()(const slot& s) const noexcept { return s.expires_ns; }
  };
  using table = detail::two_choice_table<slot, expiry_of>;

 public:
  // bytes_per_entry is the store's memory per entry of capacity(): 17.
  static constexpr std::size_t bytes_per_entry = table::bytes_per_entry;

  // create makes a store. Errors: store_capacity_invalid (capacity 0 or
  // over 2^30, or max_id_size 0), window_invalid (retention not in
  // (0, fw::max_window]), out_of_memory.
  [[nodiscard]] static result<idempotency_store> create(const idempotency_store_options& options = {}) noexcept {
    result<table> made = table::create(options.capacity, options.max_id_size, options.retention);
    if (!made) return made.error();
    return idempotency_store{std::move(*made), options};
  }

  // remember records message_id, published at publish_time, as seen at now,
  // unless it already is, and confirmed (not pending). An id whose retention
  // has already ended at now is answered first_time and not kept: check
  // freshness first (the receiver does), so that such a delivery is refused
  // as stale instead. A pending id is answered in_progress. Errors:
  // message_id_empty, message_id_too_long.
  [[nodiscard]] result<remember_result> remember(std::string_view message_id, timestamp publish_time,
                                                 timestamp now) noexcept {
    return remember_tagged(message_id.size(), table_.hash(message_id), publish_time, now, false);
  }

  // forget removes message_id, pending or confirmed, so that its next
  // delivery is a first sighting again. Returns whether the id was held.
  bool forget(std::string_view message_id) noexcept { return forget_tagged(table_.hash(message_id), false); }

  // pending says whether message_id is held and pending: admitted by a
  // receiver that has neither confirmed nor retracted it.
  [[nodiscard]] bool pending(std::string_view message_id) noexcept {
    auto buckets = table_.lock(table_.hash(message_id));
    const table::entry found = buckets.find();
    return found.slot != nullptr && found.marked();
  }

  // contains says whether message_id is held (pending or confirmed) and
  // unexpired at now.
  [[nodiscard]] bool contains(std::string_view message_id, timestamp now) noexcept {
    auto buckets = table_.lock(table_.hash(message_id));
    const table::entry found = buckets.find();
    return found.slot != nullptr && found.slot->expires_ns >= now.time_since_epoch().count();
  }

  // capacity is the number of ids the store holds (at least the capacity
  // asked for).
  [[nodiscard]] std::size_t capacity() const noexcept { return table_.capacity(); }
  [[nodiscard]] std::chrono::nanoseconds retention() const noexcept {
    return std::chrono::nanoseconds{retention_ns_};
  }
  [[nodiscard]] std::size_t max_id_size() const noexcept { return max_id_size_; }
  // evicted_unexpired counts the ids evicted before their retention ended,
  // since create(). Anything but 0 means the store is too small.
  [[nodiscard]] std::uint64_t evicted_unexpired() const noexcept { return table_.evicted_unexpired(); }

 private:
  // The receiver keeps an id's tag (its keyed hash) in its retract token,
  // so that retract needs no view of the id.
  template <std::size_t, std::size_t>
  friend class basic_receiver;

  [[nodiscard]] std::uint64_t tag_of(std::string_view message_id) const noexcept { return table_.hash(message_id); }

  // remember_tagged is remember by tag; pending leaves a newly recorded id
  // pending (the receiver's admit).
  [[nodiscard]] result<remember_result> remember_tagged(std::size_t id_size, std::uint64_t tag,
                                                        timestamp publish_time, timestamp now, bool pending) noexcept {
    if (id_size == 0) return errc::message_id_empty;
    if (id_size > max_id_size_) return errc::message_id_too_long;
    const std::int64_t now_ns = now.time_since_epoch().count();
    const std::int64_t expires = detail::expiry_after(publish_time.time_since_epoch().count(), retention_ns_);
    auto buckets = table_.lock(tag);
    if (const table::entry found = buckets.find(); found.slot != nullptr) {
      slot& held = *found.slot;
      if (held.expires_ns >= now_ns) {
        // A retry of the same message carries the same publish_time; should
        // one id come with a later one, remember it for the longer time.
        held.expires_ns = std::max(held.expires_ns, expires);
        return remember_result{found.marked() ? sighting::in_progress : sighting::duplicate, false};
      }
      held.expires_ns = expires;  // expired: taken afresh by this sighting
      found.mark(pending);
      return remember_result{sighting::first_time, false};
    }
    // Already past its retention: nothing to remember it for, and claiming
    // room could push out an id that still needs it.
    if (expires < now_ns) return remember_result{sighting::first_time, false};
    bool evicted = false;
    const table::entry claimed = buckets.claim(now_ns, evicted);
    claimed.slot->expires_ns = expires;
    claimed.mark(pending);
    return remember_result{sighting::first_time, evicted};
  }

  // confirm_tagged turns a pending id into a confirmed one. Returns whether
  // it was pending.
  bool confirm_tagged(std::uint64_t tag) noexcept {
    auto buckets = table_.lock(tag);
    const table::entry found = buckets.find();
    if (found.slot == nullptr || !found.marked()) return false;
    found.mark(false);
    return true;
  }

  // forget_tagged removes the id; only_pending leaves a confirmed id alone
  // (a retract that comes after its confirm does nothing).
  bool forget_tagged(std::uint64_t tag, bool only_pending) noexcept {
    auto buckets = table_.lock(tag);
    const table::entry found = buckets.find();
    if (found.slot == nullptr || (only_pending && !found.marked())) return false;
    found.slot->expires_ns = detail::never;
    found.mark(false);
    return true;
  }

  idempotency_store(table&& t, const idempotency_store_options& options) noexcept
      : table_(std::move(t)), retention_ns_(options.retention.count()), max_id_size_(options.max_id_size) {}

  table table_;
  std::int64_t retention_ns_;
  std::size_t max_id_size_;
};

}  // namespace fiskil::webhooks
