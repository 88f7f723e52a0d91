// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
//
// Durations and instants as fiskil-webhook reads and writes them.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

namespace cli {

// max_duration bounds --max-age: far more than the provider's retry window
// (5 retries, at most 10 minutes apart), and small enough that no
// arithmetic on it can overflow.
inline constexpr std::chrono::seconds max_duration = std::chrono::days{365};

// parse_duration reads DURATION: one or more NUMBER UNIT pairs, UNIT one of
// d, h, m, s, in that order and each at most once ("90s", "10m", "1h30m",
// "2d"). It returns an empty string and sets out on success, otherwise a
// message saying what is wrong. Zero and anything over max_duration are
// refused.
std::string parse_duration(std::string_view text, std::chrono::seconds& out);

// format_duration writes a (possibly negative) span of time the same way,
// to the millisecond, leaving out units that are zero: "1h30m", "4m59.877s",
// "10m", "0s".
std::string format_duration(std::chrono::nanoseconds span);

// fraction_digits chooses how format_rfc3339_utc writes the fraction of a
// second.
enum class fraction_digits {
  // Always 9 digits: exact, fixed-width, so that the texts of two instants
  // sort as the instants do. For output that scripts read.
  nanoseconds,
  // The digits up to the last non-zero one, and none for a whole second, as
  // Go's time.RFC3339Nano writes: shorter, for messages people read.
  significant,
};

// format_rfc3339_utc writes an instant as RFC 3339 in UTC:
// "2023-11-23T03:03:30.792000000Z" (nanoseconds) or
// "2023-11-23T03:03:30.792Z" (significant). Years must lie in 0000-9999.
std::string format_rfc3339_utc(std::chrono::sys_time<std::chrono::nanoseconds> instant, fraction_digits digits);

}  // namespace cli
