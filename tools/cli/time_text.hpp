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

// format_rfc3339_utc writes an instant as RFC 3339 in UTC, with the
// fraction of a second that it has and no trailing zeros, as Go's
// time.RFC3339Nano does (so a publish_time Fiskil wrote in UTC comes back
// unchanged): "2023-11-23T03:03:30.792Z", "2026-11-20T09:15:00Z".
// Years must lie in 0000-9999.
std::string format_rfc3339_utc(std::chrono::sys_time<std::chrono::nanoseconds> instant);

}  // namespace cli
