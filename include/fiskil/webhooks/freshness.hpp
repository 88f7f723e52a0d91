// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
//
// Freshness: is a delivery's publish_time recent enough to act on? Why the
// window is 65 minutes back and 5 ahead, and why the stores remember ids for
// 70 minutes: docs/design.md, "The freshness arithmetic".
#pragma once

#include <atomic>
#include <chrono>
#include <concepts>
#include <cstdint>
#include <limits>
#include <system_error>

#include "error.hpp"
#include "result.hpp"
#include "time.hpp"

namespace fiskil::webhooks {

// default_max_age covers the provider's whole retry schedule (the arithmetic
// is in docs/design.md).
inline constexpr std::chrono::nanoseconds default_max_age = std::chrono::minutes{65};
// default_max_future_skew tolerates clocks (ours and the provider's) that
// disagree by a few minutes, as NTP-synchronised hosts occasionally do.
inline constexpr std::chrono::nanoseconds default_max_future_skew = std::chrono::minutes{5};
// max_window bounds every configured window, so that adding one to any
// timestamp parse_rfc3339 accepts cannot overflow 64-bit nanoseconds.
inline constexpr std::chrono::nanoseconds max_window = std::chrono::hours{24 * 7};

// age is now - publish_time: how long ago the delivery was published,
// negative when publish_time is after now. Timestamps span the whole 64-bit
// range of nanoseconds (years 1678-2261), so the difference saturates at
// +/- the largest count instead of overflowing, symmetrically so that it can
// be negated. Exact whenever |now - publish_time| is below 292 years.
[[nodiscard]] constexpr std::chrono::nanoseconds age(timestamp publish_time, timestamp now) noexcept {
  using limits = std::numeric_limits<std::int64_t>;
  const std::int64_t to = now.time_since_epoch().count();
  const std::int64_t from = publish_time.time_since_epoch().count();
  if (from < 0 && to > limits::max() + from) return std::chrono::nanoseconds{limits::max()};
  if (from > 0 && to < limits::min() + from) return std::chrono::nanoseconds{-limits::max()};
  return std::chrono::nanoseconds{to - from};
}

// freshness is the window a publish_time must fall in, relative to now:
// now - max_age <= publish_time <= now + max_future_skew, both ends
// inclusive. A plain value with no state (a clock that goes backwards only
// moves the window: docs/design.md).
struct freshness {
  std::chrono::nanoseconds max_age = default_max_age;
  std::chrono::nanoseconds max_future_skew = default_max_future_skew;

  // check succeeds when publish_time is inside the window at now; fails
  // with errc::publish_time_stale when it is older than max_age,
  // errc::publish_time_in_future when it is further ahead than
  // max_future_skew (both of error_kind::freshness). An invalid window (see
  // validate) refuses every delivery as stale.
  [[nodiscard]] status check(timestamp publish_time, timestamp now) const noexcept {
    if (!valid()) return errc::publish_time_stale;
    // Windows are at most max_window, far below where age() saturates.
    const std::chrono::nanoseconds elapsed = age(publish_time, now);
    if (elapsed > max_age) return errc::publish_time_stale;
    if (elapsed < -max_future_skew) return errc::publish_time_in_future;
    return {};
  }

  // validate fails with errc::window_invalid unless 0 < max_age <=
  // max_window and 0 <= max_future_skew <= max_window.
  [[nodiscard]] status validate() const noexcept {
    if (!valid()) return errc::window_invalid;
    return {};
  }

  // retention is how long the stores must remember an id past its
  // publish_time for every replay to be stale or remembered, with a clock
  // that may step back by up to max_future_skew between two requests.
  [[nodiscard]] constexpr std::chrono::nanoseconds retention() const noexcept {
    return max_age + max_future_skew;
  }

 private:
  constexpr bool valid() const noexcept {
    return max_age > std::chrono::nanoseconds::zero() && max_age <= max_window &&
           max_future_skew >= std::chrono::nanoseconds::zero() && max_future_skew <= max_window;
  }
};

// clock_source is anything with a noexcept now() returning a timestamp.
template <class Source>
concept clock_source = requires(const Source& source) {
  { source.now() } noexcept -> std::same_as<timestamp>;
};

// clock is how the receiver reads the time: std::chrono::system_clock by
// default, or a reference to any clock_source, so tests (and replays of
// recorded traffic) can inject time. It is two pointers, copied freely; a
// clock made from a source must not outlive it.
class clock {
 public:
  // clock() reads std::chrono::system_clock.
  constexpr clock() noexcept = default;

  // clock(source) reads source.now(); source must outlive this clock and
  // every copy of it, and its now() must be safe to call from every thread
  // that uses the clock.
  template <clock_source Source>
  explicit constexpr clock(const Source& source) noexcept
      : read_(&read_source<Source>), source_(&source) {}

  [[nodiscard]] timestamp now() const noexcept { return read_(source_); }

 private:
  static timestamp read_system(const void*) noexcept {
    return std::chrono::time_point_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now());
  }
  template <class Source>
  static timestamp read_source(const void* source) noexcept {
    return static_cast<const Source*>(source)->now();
  }

  timestamp (*read_)(const void*) noexcept = &read_system;
  const void* source_ = nullptr;
};

// manual_clock is a clock_source that says what it was told, for tests and
// simulations: set and advance may move it either way (backwards too), from
// any thread.
class manual_clock {
 public:
  explicit manual_clock(timestamp start = {}) noexcept : ns_(start.time_since_epoch().count()) {}

  [[nodiscard]] timestamp now() const noexcept {
    return timestamp{std::chrono::nanoseconds{ns_.load(std::memory_order_relaxed)}};
  }
  void set(timestamp when) noexcept { ns_.store(when.time_since_epoch().count(), std::memory_order_relaxed); }
  void advance(std::chrono::nanoseconds by) noexcept { ns_.fetch_add(by.count(), std::memory_order_relaxed); }

 private:
  std::atomic<std::int64_t> ns_;
};

}  // namespace fiskil::webhooks
