// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
#pragma once

#include <bit>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>
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

// load_little_endian reads size (at most 8) bytes as a little-endian word:
// one load at run time, a loop in constant evaluation.
constexpr std::uint64_t load_little_endian(const char* p, std::size_t size) noexcept {
  if (!std::is_constant_evaluated() && std::endian::native == std::endian::little) {
    std::uint64_t word = 0;
    std::memcpy(&word, p, size);
    return word;
  }
  std::uint64_t word = 0;
  for (std::size_t i = 0; i < size; ++i) word |= std::uint64_t{static_cast<unsigned char>(p[i])} << (8 * i);
  return word;
}

// all_digits: every byte of word selected by mask (FF bytes) is '0' to '9'.
// A digit's high nibble is 3, and adding 6 leaves it 3; adding 6 to any
// byte that is not a digit changes its high nibble or its own test fails,
// and only such a byte can carry into the next one.
constexpr bool all_digits(std::uint64_t word, std::uint64_t mask) noexcept {
  constexpr std::uint64_t high = 0xF0F0F0F0F0F0F0F0ull, threes = 0x3030303030303030ull;
  return (word & mask & high) == (threes & mask) &&
         ((word + 0x0606060606060606ull) & mask & high) == (threes & mask);
}

// two_digits reads a fixed-width decimal field, or returns -1.
constexpr int two_digits(const char* p) noexcept {
  return is_digit(p[0]) && is_digit(p[1]) ? (p[0] - '0') * 10 + (p[1] - '0') : -1;
}

constexpr bool is_leap_year(int y) noexcept { return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0); }

constexpr int days_in_month(int y, int m) noexcept {
  constexpr int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap_year(y) ? 29 : days[m - 1];
}

// days_from_civil: days since 1970-01-01 of a proleptic Gregorian date, for
// years 1 to 9999 (the caller checks narrower bounds), in Neri and
// Schneider's form (why: docs/design.md, "Parsing").
constexpr std::int64_t days_from_civil(unsigned y, unsigned m, unsigned d) noexcept {
  const unsigned before_march = m <= 2 ? 1u : 0u;
  const unsigned year = y - before_march;                // the year, counted from March
  const unsigned month = before_march != 0 ? m + 12 : m;  // March = 3 ... February = 14
  const unsigned century = year / 100;
  const unsigned days_before_year = 1461 * year / 4 - century + century / 4;
  const unsigned days_before_month = (979 * month - 2919) / 32;  // since March 1
  return std::int64_t{days_before_year} + days_before_month + d - 1 - 719468;
}

// parse_rfc3339 is the constexpr core of fw::parse_rfc3339 (so its cases can
// be checked at compile time too). Marked hot: docs/design.md says why.
[[gnu::hot]] constexpr rfc3339_parse parse_rfc3339(std::string_view text) noexcept {
  constexpr rfc3339_parse malformed{errc::publish_time_malformed, {}};
  constexpr rfc3339_parse out_of_range{errc::publish_time_out_of_range, {}};

  // YYYY-MM-DDTHH:MM:SS is 19 characters with fixed separators; a zone
  // designator follows, so at least 20. The fixed part is read as three
  // little-endian words and checked a word at a time, without a branch per
  // character: "YYYY-MM-", "DDTHH:MM" and ":SS" plus the next character.
  if (text.size() < 20) return malformed;
  const char* t = text.data();
  const std::uint64_t date = load_little_endian(t, 8), clock = load_little_endian(t + 8, 8),
                      seconds_word = load_little_endian(t + 16, 4);
  // Digit bytes (FF) and the separators, in byte order: bytes 0-3 and 5-6
  // of the first word are digits, 4 and 7 are '-'; in the second, 2 is 'T'
  // (either case) and 5 is ':'; in the third, 0 is ':' and 1-2 are digits.
  constexpr std::uint64_t date_digits = 0x00FFFF00FFFFFFFFull, date_separators = 0x2D00002D00000000ull;
  constexpr std::uint64_t clock_digits = 0xFFFF00FFFF00FFFFull, clock_separators = 0x00003A0000540000ull;
  constexpr std::uint64_t seconds_digits = 0x0000000000FFFF00ull, seconds_separators = 0x000000000000003Aull;
  constexpr std::uint64_t clock_case = 0x0000000000200000ull;  // 't' reads as 'T'
  const bool separators_ok = (date & ~date_digits) == date_separators &&
                             ((clock & ~clock_digits) & ~clock_case) == clock_separators &&
                             (seconds_word & 0xFFull) == seconds_separators;
  if (!separators_ok || !all_digits(date, date_digits) || !all_digits(clock, clock_digits) ||
      !all_digits(seconds_word, seconds_digits))
    return malformed;
  // XOR with '0' turns each digit byte into its value.
  const std::uint64_t date_values = date ^ 0x3030303030303030ull, clock_values = clock ^ 0x3030303030303030ull,
                      seconds_values = seconds_word ^ 0x3030303030303030ull;
  const auto digit = [](std::uint64_t values, int byte) { return static_cast<int>((values >> (8 * byte)) & 0xFF); };
  const int y = digit(date_values, 0) * 1000 + digit(date_values, 1) * 100 + digit(date_values, 2) * 10 +
                digit(date_values, 3);
  const int mo = digit(date_values, 5) * 10 + digit(date_values, 6);
  const int d = digit(clock_values, 0) * 10 + digit(clock_values, 1);
  const int h = digit(clock_values, 3) * 10 + digit(clock_values, 4);
  const int mi = digit(clock_values, 6) * 10 + digit(clock_values, 7);
  const int s = digit(seconds_values, 1) * 10 + digit(seconds_values, 2);

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
    constexpr std::int64_t scale[10] = {1'000'000'000, 100'000'000, 10'000'000, 1'000'000, 100'000,
                                        10'000,        1'000,       100,        10,        1};
    fraction_ns *= scale[pos - first];
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
  // Second 60 is refused (docs/design.md).
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
