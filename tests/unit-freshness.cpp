// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
#include <doctest/doctest.h>

// This header alone, to show that it is self-contained; against the single
// header (-Dsingle_include=true) there is only the whole library.
#if __has_include(<fiskil/webhooks/freshness.hpp>)
#include <fiskil/webhooks/freshness.hpp>
#else
#include <fiskil/webhooks.hpp>
#endif

#include <chrono>
#include <ostream>
#include <string>
#include <thread>

namespace fw = fiskil::webhooks;
using namespace std::chrono_literals;

namespace {
fw::timestamp at(const char* text) { return fw::parse_rfc3339(text).value(); }
}  // namespace

TEST_CASE("the default window covers the provider's whole retry schedule") {
  const fw::freshness window;
  // 5 retries at most 10 minutes apart after the first attempt, 6 request
  // timeouts of 30 s, 5 minutes of clock skew: the rest is queueing slack.
  const auto schedule = 5 * 10min + 6 * 30s + window.max_future_skew;
  CHECK(window.max_age == 65min);
  CHECK(window.max_age > schedule);
  CHECK(window.max_age - schedule == 7min);
  CHECK(window.max_future_skew == 5min);
  CHECK(window.retention() == 70min);
  CHECK(window.validate());

  // The last retry of a delivery whose first attempt was 2 minutes after
  // publishing is fresh.
  const fw::timestamp published = at("2026-11-20T09:00:00Z");
  CHECK(window.check(published, published + 2min + 5 * 10min + 3min));
}

TEST_CASE("the boundaries are inclusive, to the nanosecond") {
  const fw::freshness window{.max_age = 10min, .max_future_skew = 1min};
  const fw::timestamp now = at("2026-11-20T09:00:00.000000000Z");
  CHECK(window.check(now, now));
  CHECK(window.check(now - 10min, now));  // exactly max_age old: fresh
  CHECK(window.check(now - 10min - 1ns, now).error() == fw::errc::publish_time_stale);
  CHECK(window.check(now + 1min, now));  // exactly max_future_skew ahead: fresh
  CHECK(window.check(now + 1min + 1ns, now).error() == fw::errc::publish_time_in_future);

  // The same boundary read from RFC 3339 text, as a delivery carries it.
  CHECK(window.check(at("2026-11-20T08:50:00Z"), now));
  CHECK(window.check(at("2026-11-20T08:49:59.999999999Z"), now).error() == fw::errc::publish_time_stale);
  CHECK(window.check(at("2026-11-20T09:01:00.000000001Z"), now).error() == fw::errc::publish_time_in_future);
  CHECK(window.check(at("2026-11-20T19:01:00+10:00"), now));  // offset: 09:01Z
}

TEST_CASE("freshness errors are errc values of kind freshness, with their own messages") {
  const std::error_code stale = fw::errc::publish_time_stale;
  const std::error_code future = fw::errc::publish_time_in_future;
  CHECK(stale == fw::error_kind::freshness);
  CHECK(future == fw::error_kind::freshness);
  CHECK(stale != fw::error_kind::envelope);
  CHECK(stale.message().find("max_age") != std::string::npos);
  CHECK(future.message().find("max_future_skew") != std::string::npos);
}

TEST_CASE("a clock going backwards moves the window, never past the skew tolerance") {
  const fw::freshness window{.max_age = 10min, .max_future_skew = 1min};
  fw::manual_clock clock{at("2026-11-20T09:00:00Z")};
  const fw::clock reads{clock};
  const fw::timestamp just_published = clock.now();
  CHECK(window.check(just_published, reads.now()));
  // The clock steps back 30 s: the delivery now looks 30 s ahead, within skew.
  clock.advance(-30s);
  CHECK(reads.now() < just_published);
  CHECK(window.check(just_published, reads.now()));
  // Back another minute: 90 s ahead is beyond the skew: refused, retry-able.
  clock.advance(-1min);
  CHECK(window.check(just_published, reads.now()).error() == fw::errc::publish_time_in_future);
  // An old delivery looks younger on the backward clock: stale at 09:10:01,
  // fresh again when the clock reads 09:09:00.
  clock.set(at("2026-11-20T09:10:01Z"));
  CHECK(window.check(just_published, reads.now()).error() == fw::errc::publish_time_stale);
  clock.set(at("2026-11-20T09:09:00Z"));
  CHECK(window.check(just_published, reads.now()));
}

TEST_CASE("extreme timestamps do not overflow the comparison") {
  const fw::freshness window;
  const fw::timestamp earliest = at("1678-01-01T00:00:00Z");
  const fw::timestamp latest = at("2261-12-31T23:59:59.999999999Z");
  // 584 years apart: more than 2^63 ns, so a signed difference would wrap.
  CHECK(window.check(earliest, latest).error() == fw::errc::publish_time_stale);
  CHECK(window.check(latest, earliest).error() == fw::errc::publish_time_in_future);
  CHECK(window.check(latest, latest));
  CHECK(window.check(earliest, earliest));
}

TEST_CASE("an unusable window is refused by validate, and check fails closed") {
  const fw::timestamp now = at("2026-11-20T09:00:00Z");
  for (const fw::freshness bad : {fw::freshness{.max_age = 0ns}, fw::freshness{.max_age = -1min},
                                  fw::freshness{.max_age = fw::max_window + 1ns},
                                  fw::freshness{.max_future_skew = -1ns},
                                  fw::freshness{.max_future_skew = fw::max_window + 1ns}}) {
    CHECK(bad.validate().error() == fw::errc::window_invalid);
    CHECK(bad.check(now, now).error() == fw::errc::publish_time_stale);
  }
  CHECK(fw::freshness{.max_age = fw::max_window, .max_future_skew = 0ns}.validate());
  CHECK(std::error_code(fw::errc::window_invalid) == fw::error_kind::configuration);
}

TEST_CASE("the default clock reads the system clock; a clock reads any clock_source") {
  const fw::clock system;
  const auto before = std::chrono::system_clock::now();
  const fw::timestamp read = system.now();
  const auto after = std::chrono::system_clock::now();
  CHECK(read >= std::chrono::time_point_cast<std::chrono::nanoseconds>(before));
  CHECK(read <= std::chrono::time_point_cast<std::chrono::nanoseconds>(after));

  struct fixed_source {
    fw::timestamp when;
    fw::timestamp now() const noexcept { return when; }
  };
  static_assert(fw::clock_source<fixed_source>);
  static_assert(fw::clock_source<fw::manual_clock>);
  static_assert(!fw::clock_source<int>);
  const fixed_source fixed{at("2030-01-01T00:00:00Z")};
  CHECK(fw::clock{fixed}.now() == at("2030-01-01T00:00:00Z"));
}

TEST_CASE("manual_clock moves both ways and is shared between threads") {
  fw::manual_clock clock{at("2026-01-01T00:00:00Z")};
  clock.advance(1h);
  CHECK(clock.now() == at("2026-01-01T01:00:00Z"));
  clock.advance(-2h);
  CHECK(clock.now() == at("2025-12-31T23:00:00Z"));
  std::thread other([&] { clock.advance(1min); });
  other.join();
  CHECK(clock.now() == at("2025-12-31T23:01:00Z"));
}

TEST_CASE("fw::age is now - publish_time, saturating symmetrically at the extremes") {
  using namespace std::chrono_literals;
  const fw::timestamp ten = at("2026-11-20T10:00:00Z");
  CHECK(fw::age(ten, ten + 5min) == 5min);
  CHECK(fw::age(ten + 5min, ten) == -5min);
  CHECK(fw::age(ten, ten) == 0ns);
  const fw::timestamp earliest = at("1678-01-01T00:00:00Z");
  const fw::timestamp latest = at("2261-12-31T23:59:59.999999999Z");
  // More than 2^63 ns apart: the difference saturates instead of wrapping.
  CHECK(fw::age(earliest, latest) == std::chrono::nanoseconds::max());
  CHECK(fw::age(latest, earliest) == -std::chrono::nanoseconds::max());
  // Close to the extremes but representable: exact.
  CHECK(fw::age(latest - 1s, latest) == 1s);
  CHECK(fw::age(earliest + 1s, earliest) == -1s);
}
