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

constexpr bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

// digits reads text[pos, pos+count) as a decimal number, or -1.
constexpr int digits(std::string_view text, std::size_t pos, std::size_t count) noexcept {
  if (pos + count > text.size()) return -1;
  int value = 0;
  for (std::size_t i = pos; i < pos + count; ++i) {
    if (!is_digit(text[i])) return -1;
    value = value * 10 + (text[i] - '0');
  }
  return value;
}

// parse_rfc3339 is the constexpr core of fw::parse_rfc3339 (so its cases can
// be checked at compile time too).
constexpr rfc3339_parse parse_rfc3339(std::string_view text) noexcept {
  using namespace std::chrono;
  constexpr rfc3339_parse malformed{errc::publish_time_malformed, {}};
  constexpr rfc3339_parse out_of_range{errc::publish_time_out_of_range, {}};

  // YYYY-MM-DDTHH:MM:SS is 19 characters; the separators are fixed.
  if (text.size() < 20) return malformed;
  const auto at = [&](std::size_t i, char c) { return text[i] == c; };
  if (!at(4, '-') || !at(7, '-') || !(at(10, 'T') || at(10, 't')) || !at(13, ':') || !at(16, ':'))
    return malformed;
  const int y = digits(text, 0, 4), mo = digits(text, 5, 2), d = digits(text, 8, 2);
  const int h = digits(text, 11, 2), mi = digits(text, 14, 2), s = digits(text, 17, 2);
  if (y < 0 || mo < 0 || d < 0 || h < 0 || mi < 0 || s < 0) return malformed;

  std::size_t pos = 19;
  std::int64_t fraction_ns = 0;
  if (text[pos] == '.') {
    ++pos;
    std::size_t count = 0;
    while (pos < text.size() && is_digit(text[pos])) {
      if (++count > 9) return malformed;
      fraction_ns = fraction_ns * 10 + (text[pos] - '0');
      ++pos;
    }
    if (count == 0) return malformed;
    for (std::size_t k = count; k < 9; ++k) fraction_ns *= 10;
  }

  if (pos >= text.size()) return malformed;
  int offset_minutes = 0;
  if (text[pos] == 'Z' || text[pos] == 'z') {
    ++pos;
  } else if (text[pos] == '+' || text[pos] == '-') {
    const bool negative = text[pos] == '-';
    if (pos + 6 != text.size() || text[pos + 3] != ':') return malformed;
    const int oh = digits(text, pos + 1, 2), om = digits(text, pos + 4, 2);
    if (oh < 0 || om < 0) return malformed;
    if (oh > 23 || om > 59) return out_of_range;
    offset_minutes = (negative ? -1 : 1) * (oh * 60 + om);
    pos += 6;
  } else {
    return malformed;
  }
  if (pos != text.size()) return malformed;

  // Nanoseconds since 1970 in 64 bits reach from 1677-09-21 to 2262-04-11.
  // Second 60 (a leap second) is refused: Fiskil's Go encoder never emits
  // it, and accepting it would need a leap-second table.
  if (y < 1678 || y > 2261 || h > 23 || mi > 59 || s > 59) return out_of_range;
  const year_month_day date{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
  if (!date.ok()) return out_of_range;
  const timestamp local = sys_days{date} + hours{h} + minutes{mi} + seconds{s} + nanoseconds{fraction_ns};
  return {errc{}, local - minutes{offset_minutes}};
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
