// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
//
// Consent ordering: apply consent events in publish_time order, and never
// after a revocation.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <type_traits>

#include "detail/two_choice_table.hpp"
#include "error.hpp"
#include "events.hpp"
#include "freshness.hpp"
#include "result.hpp"
#include "time.hpp"

namespace fiskil::webhooks {

template <std::size_t KeyCapacity, std::size_t RangeCapacity>
class basic_receiver;

// consent_change is what a consent event says happened. The values order
// events published at the same instant: received, then updated, then revoked.
enum class consent_change : std::uint8_t { received = 1, updated = 2, revoked = 3 };

// consent_change_of<E> is the change a consent event type carries.
template <consent_event E>
inline constexpr consent_change consent_change_of =
    std::is_same_v<std::remove_cvref_t<E>, consent_received> ? consent_change::received
    : std::is_same_v<std::remove_cvref_t<E>, consent_updated> ? consent_change::updated
                                                              : consent_change::revoked;

// consent_order classifies a consent event against what was applied before.
enum class consent_order : std::uint8_t {
  newer,             // apply it: it is now the consent's latest state
  duplicate,         // the same change at the same publish_time was applied already
  stale,             // older than the state already applied: ignore it
  after_revocation,  // the consent is revoked, and revocation is final: ignore it
};

// consent_step is the verdict of consent_tracker::observe.
struct consent_step {
  consent_order verdict;
  // evicted_unexpired is true when recording this consent pushed out another
  // one still inside its retention; also counted in evicted_unexpired().
  bool evicted_unexpired;
};

// consent_state is the latest change applied to a consent.
struct consent_state {
  consent_change change;
  timestamp publish_time;
};

// consent_order_after classifies a change to a consent published at
// publish_time against latest, the latest change applied to it (nullopt
// when none is), by consent_tracker's rule: publish_time order, then
// received < updated < revoked; revocation is final and never stale. Pure;
// for state kept elsewhere (a gateway's shared key-value store).
[[nodiscard]] constexpr consent_order consent_order_after(const std::optional<consent_state>& latest,
                                                          consent_change change, timestamp publish_time) noexcept {
  if (!latest) return consent_order::newer;
  if (latest->change == consent_change::revoked)
    return change == consent_change::revoked ? consent_order::duplicate : consent_order::after_revocation;
  if (change == consent_change::revoked || publish_time > latest->publish_time ||
      (publish_time == latest->publish_time && change > latest->change))
    return consent_order::newer;
  return publish_time == latest->publish_time && change == latest->change ? consent_order::duplicate
                                                                         : consent_order::stale;
}

// consent_tracker_options sizes a consent_tracker.
struct consent_tracker_options {
  // capacity is the number of consents held, rounded up; 1.5 times the
  // consents with events within one retention is ample.
  std::size_t capacity = std::size_t{1} << 14;
  // retention is how long past its latest publish_time a consent is kept for
  // certain; the freshness window's retention() or more.
  std::chrono::nanoseconds retention = freshness{}.retention();
  // max_id_size bounds a consent_id in bytes (the provider's are 36-byte
  // UUIDs); longer ones are refused with errc::consent_id_too_long.
  std::size_t max_id_size = 256;
};

// consent_tracker remembers, per consent_id, the latest consent event
// applied, so that events delivered out of order are classified instead of
// applied blindly: ordered by publish_time, then received < updated <
// revoked; later than the latest is newer (and becomes the latest), equal is
// duplicate, earlier is stale. Verdicts are made against confirmed state
// only: a change a receiver admitted stays pending until it confirms or
// retracts it, and meanwhile other changes of that consent are refused
// (consent_in_progress) rather than judged against it. consent.revoked is final: any other event for
// a revoked consent is after_revocation. A consent is kept for its latest
// publish_time plus retention; a full tracker evicts the consent closest to
// expiry and reports it. The rules, and what eviction loses:
// docs/design.md, "Consent ordering".
//
// Memory and concurrency are those of idempotency_store: one allocation at
// create(), bytes_per_entry (about 34) per entry, every call safe from any
// thread and atomic. Moving a tracker is not thread-safe.
class consent_tracker {
  // A consent's confirmed state (latest) and at most one pending change,
  // admitted by a receiver and neither confirmed nor retracted yet.
  struct slot {
    std::int64_t latest_ns = 0;
    std::int64_t pending_ns = 0;
    std::uint8_t latest = 0;   // consent_change, 0 when nothing is confirmed
    std::uint8_t pending = 0;  // consent_change, 0 when nothing is pending
  };
  struct expiry_of {
    std::int64_t retention_ns = 0;
    std::int64_t operator()(const slot& s) const noexcept {
      if (s.latest == 0 && s.pending == 0) return detail::never;
      const std::int64_t newest = s.latest == 0    ? s.pending_ns
                                  : s.pending == 0 ? s.latest_ns
                                                   : std::max(s.latest_ns, s.pending_ns);
      return detail::expiry_after(newest, retention_ns);
    }
  };
  using table = detail::two_choice_table<slot, expiry_of>;

 public:
  // bytes_per_entry is the tracker's memory per entry of capacity(): 34.
  static constexpr std::size_t bytes_per_entry = table::bytes_per_entry;

  // create makes a tracker. Errors: store_capacity_invalid (capacity 0 or
  // over 2^30, or max_id_size 0), window_invalid (retention not in
  // (0, fw::max_window]), out_of_memory.
  [[nodiscard]] static result<consent_tracker> create(const consent_tracker_options& options = {}) noexcept {
    result<table> made =
        table::create(options.capacity, options.max_id_size, options.retention, expiry_of{options.retention.count()});
    if (!made) return made.error();
    return consent_tracker{std::move(*made), options.max_id_size, options.retention.count()};
  }

  // observe classifies a change to consent_id published at publish_time
  // against the consent's confirmed state and, when it is newer, records it
  // as the confirmed state at once. now decides which entries have expired;
  // an unknown consent whose publish_time is already past its retention at
  // now is answered newer and not kept (check freshness first, as the
  // receiver does). Errors: consent_id_missing (empty id),
  // consent_id_too_long.
  [[nodiscard]] result<consent_step> observe(std::string_view consent_id, consent_change change,
                                             timestamp publish_time, timestamp now) noexcept {
    return observe_tagged(consent_id.size(), table_.hash(consent_id), change, publish_time, now, false);
  }

  // observe(event, now) is observe with the event's consent_id, change and
  // publish_time.
  template <consent_event Event>
  [[nodiscard]] result<consent_step> observe(const Event& event, timestamp now) noexcept {
    return observe(event.consent_id, consent_change_of<Event>, event.publish_time, now);
  }

  // retract drops the consent's pending change (one a receiver admitted and
  // has neither confirmed nor retracted) when it is this change: the
  // confirmed state is untouched. Returns whether it dropped one. A
  // confirmed state is never undone.
  bool retract(std::string_view consent_id, consent_change change, timestamp publish_time) noexcept {
    return retract_tagged(table_.hash(consent_id), change, publish_time);
  }

  // latest returns the confirmed state of consent_id, if one is held.
  [[nodiscard]] std::optional<consent_state> latest(std::string_view consent_id) noexcept {
    auto buckets = table_.lock(table_.hash(consent_id));
    const table::entry found = buckets.find();
    if (found.slot == nullptr || found.slot->latest == 0) return std::nullopt;
    return consent_state{static_cast<consent_change>(found.slot->latest),
                         timestamp{std::chrono::nanoseconds{found.slot->latest_ns}}};
  }

  // pending returns the consent's pending change, if it has one.
  [[nodiscard]] std::optional<consent_state> pending(std::string_view consent_id) noexcept {
    auto buckets = table_.lock(table_.hash(consent_id));
    const table::entry found = buckets.find();
    if (found.slot == nullptr || found.slot->pending == 0) return std::nullopt;
    return consent_state{static_cast<consent_change>(found.slot->pending),
                         timestamp{std::chrono::nanoseconds{found.slot->pending_ns}}};
  }

  [[nodiscard]] std::size_t capacity() const noexcept { return table_.capacity(); }
  [[nodiscard]] std::size_t max_id_size() const noexcept { return max_id_size_; }
  // evicted_unexpired counts the consents evicted before their retention
  // ended, since create(). Anything but 0 means the tracker is too small.
  [[nodiscard]] std::uint64_t evicted_unexpired() const noexcept { return table_.evicted_unexpired(); }

 private:
  // The receiver keeps a consent's tag (its keyed hash) in its retract
  // token, so that retract needs no view of the consent_id.
  template <std::size_t, std::size_t>
  friend class basic_receiver;

  [[nodiscard]] std::uint64_t tag_of(std::string_view consent_id) const noexcept { return table_.hash(consent_id); }

  // observe_tagged is observe by tag; pending leaves a newer change pending
  // (the receiver's admit) instead of confirming it, and refuses a change
  // while another of the same consent is pending (consent_in_progress).
  [[nodiscard]] result<consent_step> observe_tagged(std::size_t id_size, std::uint64_t tag, consent_change change,
                                                    timestamp publish_time, timestamp now, bool pending) noexcept {
    if (id_size == 0) return errc::consent_id_missing;
    if (id_size > max_id_size_) return errc::consent_id_too_long;
    const std::int64_t at = publish_time.time_since_epoch().count();
    const auto kind = static_cast<std::uint8_t>(change);
    auto buckets = table_.lock(tag);
    const table::entry found = buckets.find();
    if (found.slot == nullptr) {
      // Already past its retention: it is the first event seen for this
      // consent, but there is nothing to remember it for, and claiming room
      // could push out a consent that still needs it.
      const std::int64_t now_ns = now.time_since_epoch().count();
      if (detail::expiry_after(at, retention_ns_) < now_ns) return consent_step{consent_order::newer, false};
      bool evicted = false;
      slot& fresh = *buckets.claim(now_ns, evicted).slot;
      (pending ? fresh.pending_ns : fresh.latest_ns) = at;
      (pending ? fresh.pending : fresh.latest) = kind;
      return consent_step{consent_order::newer, evicted};
    }
    slot& held = *found.slot;
    if (pending && held.pending != 0) return errc::consent_in_progress;
    const consent_order verdict = held.latest == 0 ? consent_order::newer : consent_order_after(confirmed(held), change, publish_time);
    if (verdict == consent_order::newer) {
      (pending ? held.pending_ns : held.latest_ns) = at;
      (pending ? held.pending : held.latest) = kind;
    }
    return consent_step{verdict, false};
  }

  static consent_state confirmed(const slot& held) noexcept {
    return consent_state{static_cast<consent_change>(held.latest), timestamp{std::chrono::nanoseconds{held.latest_ns}}};
  }

  // confirm_tagged makes the consent's pending change, when it is this one,
  // its confirmed state (unless a newer one was confirmed meanwhile by
  // observe). Returns whether it was pending.
  bool confirm_tagged(std::uint64_t tag, consent_change change, timestamp publish_time) noexcept {
    auto buckets = table_.lock(tag);
    const table::entry found = buckets.find();
    if (found.slot == nullptr) return false;
    slot& held = *found.slot;
    const std::int64_t at = publish_time.time_since_epoch().count();
    if (held.pending != static_cast<std::uint8_t>(change) || held.pending_ns != at) return false;
    if (held.latest == 0 || consent_order_after(confirmed(held), change, publish_time) == consent_order::newer) {
      held.latest = held.pending;
      held.latest_ns = held.pending_ns;
    }
    held.pending = 0;
    held.pending_ns = 0;
    return true;
  }

  bool retract_tagged(std::uint64_t tag, consent_change change, timestamp publish_time) noexcept {
    auto buckets = table_.lock(tag);
    const table::entry found = buckets.find();
    if (found.slot == nullptr) return false;
    slot& held = *found.slot;
    if (held.pending != static_cast<std::uint8_t>(change) || held.pending_ns != publish_time.time_since_epoch().count())
      return false;
    held.pending = 0;
    held.pending_ns = 0;
    return true;
  }

  consent_tracker(table&& t, std::size_t max_id_size, std::int64_t retention_ns) noexcept
      : table_(std::move(t)), max_id_size_(max_id_size), retention_ns_(retention_ns) {}

  table table_;
  std::size_t max_id_size_;
  std::int64_t retention_ns_;
};

}  // namespace fiskil::webhooks
