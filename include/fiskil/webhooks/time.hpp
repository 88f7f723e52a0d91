// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
#pragma once

#include <chrono>
#include <cstdint>
#include <string_view>

#include "error.hpp"
#include "result.hpp"

namespace fiskil::webhooks {

// timestamp is an instant in UTC with nanosecond resolution, which holds
// every RFC 3339 fraction Fiskil can send (Go emits at most 9 digits).
using timestamp = std::chrono::sys_time<std::chrono::nanoseconds>;

namespace detail {

struct rfc3339_parse {
  errc error;  // errc{} on success
  timestamp time;
};

constexpr bool is_digit(char c) noexcept { return static_cast<unsigned char>(c - '0') <= 9; }

// two_digits / four_digits read fixed-width decimal fields, or return -1.
constexpr int two_digits(const char* p) noexcept {
  return is_digit(p[0]) && is_digit(p[1]) ? (p[0] - '0') * 10 + (p[1] - '0') : -1;
}
constexpr int four_digits(const char* p) noexcept {
  const int high = two_digits(p), low = two_digits(p + 2);
  return high < 0 || low < 0 ? -1 : high * 100 + low;
}

constexpr bool is_leap_year(int y) noexcept { return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0); }

constexpr int days_in_month(int y, int m) noexcept {
  constexpr int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap_year(y) ? 29 : days[m - 1];
}

// days_from_civil: days since 1970-01-01 of a proleptic Gregorian date
// (Howard Hinnant's algorithm, as used by std::chrono), for years from 1
// on, which the caller has checked: unsigned arithmetic lets the compiler
// turn every division by a constant into a multiplication.
constexpr std::int64_t days_from_civil(unsigned y, unsigned m, unsigned d) noexcept {
  y -= m <= 2 ? 1u : 0u;
  const unsigned era = y / 400;
  const unsigned year_of_era = y - era * 400;
  const unsigned day_of_year = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return std::int64_t{era} * 146097 + std::int64_t{day_of_era} - 719468;
}

// parse_rfc3339 is the constexpr core of fw::parse_rfc3339 (so its cases can
// be checked at compile time too).
constexpr rfc3339_parse parse_rfc3339(std::string_view text) noexcept {
  constexpr rfc3339_parse malformed{errc::publish_time_malformed, {}};
  constexpr rfc3339_parse out_of_range{errc::publish_time_out_of_range, {}};

  // YYYY-MM-DDTHH:MM:SS is 19 characters with fixed separators; a zone
  // designator follows, so at least 20.
  if (text.size() < 20) return malformed;
  const char* t = text.data();
  if (t[4] != '-' || t[7] != '-' || (t[10] != 'T' && t[10] != 't') || t[13] != ':' || t[16] != ':')
    return malformed;
  const int y = four_digits(t), mo = two_digits(t + 5), d = two_digits(t + 8);
  const int h = two_digits(t + 11), mi = two_digits(t + 14), s = two_digits(t + 17);
  if ((y | mo | d | h | mi | s) < 0) return malformed;

  std::size_t pos = 19;
  std::int64_t fraction_ns = 0;
  if (t[pos] == '.') {
    const std::size_t first = ++pos;
    while (pos < text.size() && is_digit(t[pos])) {
      if (pos - first == 9) return malformed;  // a tenth digit
      fraction_ns = fraction_ns * 10 + (t[pos] - '0');
      ++pos;
    }
    if (pos == first) return malformed;
    for (std::size_t k = pos - first; k < 9; ++k) fraction_ns *= 10;
  }

  if (pos >= text.size()) return malformed;
  int offset_minutes = 0;
  if (t[pos] == 'Z' || t[pos] == 'z') {
    if (pos + 1 != text.size()) return malformed;
  } else if (t[pos] == '+' || t[pos] == '-') {
    if (pos + 6 != text.size() || t[pos + 3] != ':') return malformed;
    const int oh = two_digits(t + pos + 1), om = two_digits(t + pos + 4);
    if (oh < 0 || om < 0) return malformed;
    if (oh > 23 || om > 59) return out_of_range;
    offset_minutes = (t[pos] == '-' ? -1 : 1) * (oh * 60 + om);
  } else {
    return malformed;
  }

  // Nanoseconds since 1970 in 64 bits reach from 1677-09-21 to 2262-04-11.
  // Second 60 (a leap second) is refused: Fiskil's Go encoder never emits
  // it, and accepting it would need a leap-second table.
  if (y < 1678 || y > 2261 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 ||
      mi > 59 || s > 59)
    return out_of_range;
  const std::int64_t days =
      days_from_civil(static_cast<unsigned>(y), static_cast<unsigned>(mo), static_cast<unsigned>(d));
  const std::int64_t seconds = ((days * 24 + h) * 60 + mi - offset_minutes) * 60 + s;
  return {errc{}, timestamp{std::chrono::nanoseconds{seconds * 1'000'000'000 + fraction_ns}}};
}

}  // namespace detail

// parse_rfc3339 reads an RFC 3339 timestamp as Fiskil writes publish_time:
// "2023-11-23T03:03:30.792Z" or with a "+10:00"-style offset; 0 to 9
// fractional digits; 'T'/'Z' in either case. Errors:
// publish_time_malformed (not of that form) and publish_time_out_of_range
// (a date or time that does not exist, second 60, or a year outside
// 1678-2261). It does not allocate.
[[nodiscard]] inline result<timestamp> parse_rfc3339(std::string_view text) noexcept {
  const detail::rfc3339_parse parsed = detail::parse_rfc3339(text);
  if (parsed.error != errc{}) return parsed.error;
  return parsed.time;
}

}  // namespace fiskil::webhooks
