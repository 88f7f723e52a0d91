// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
//
// forward_schedule: what an attempt's answer means and when the next attempt
// goes (docs/forward.md, "Retries"). Pure functions: no clock, no I/O.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

namespace fiskil::gateway {

// attempt_class is what became of one attempt, also its metric label.
enum class attempt_class : std::uint8_t { ok_2xx, status_4xx, status_5xx, timeout, connection, other };

// attempt_class_name is the label: "2xx", "4xx", "5xx", "timeout", "connection", "other".
std::string_view attempt_class_name(attempt_class c) noexcept;

// classify_status gives the class of an HTTP status (2xx, 4xx, 5xx, other).
attempt_class classify_status(int status) noexcept;

// verdict is what the forwarder does after an attempt.
enum class verdict : std::uint8_t {
  delivered,  // 2xx: done
  retry,      // anything else: another attempt later (or a dead letter when out of attempts or age)
  pause,      // 410 Gone: forwarding pauses until resumed (command or SIGHUP)
};

// judge_status: only a 2xx is success; 410 pauses; everything else retries.
verdict judge_status(int status) noexcept;

// parse_retry_after reads a Retry-After value, seconds ("120") or an
// HTTP-date ("Sun, 06 Nov 1994 08:49:37 GMT", IMF-fixdate), as a delay from
// now_unix_seconds (a date in the past is a delay of 0). nullopt when the
// value is neither.
std::optional<std::chrono::seconds> parse_retry_after(std::string_view value, std::int64_t now_unix_seconds) noexcept;

// backoff_delay is the delay before attempt number failed + 1, after failed
// attempts (failed >= 1): base * 2^(failed-1), at most max, with jitter:
// a uniform draw (random01 in [0, 1)) between half that and all of it.
std::chrono::nanoseconds backoff_delay(int failed, std::chrono::nanoseconds base, std::chrono::nanoseconds max,
                                       double random01) noexcept;

// retry_delay is the delay after a failed attempt: the Retry-After value on
// 429 and 503 when there is one (as given, not capped by max), otherwise
// backoff_delay.
std::chrono::nanoseconds retry_delay(int status, std::optional<std::chrono::seconds> retry_after, int failed,
                                     std::chrono::nanoseconds base, std::chrono::nanoseconds max,
                                     double random01) noexcept;

// out_of_attempts says whether a delivery that failed its attempts-th
// attempt becomes a dead letter: attempts >= max_attempts, or its series
// started max_age or longer ago.
bool out_of_attempts(int attempts, int max_attempts, std::chrono::nanoseconds series_age,
                     std::chrono::nanoseconds max_age) noexcept;

}  // namespace fiskil::gateway
