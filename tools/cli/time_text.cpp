// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
#include "time_text.hpp"

#include <cstdint>
#include <cstdio>
#include <iterator>

namespace cli {

namespace {

// quoted returns 'text' followed by rest. Built by appending: g++ 12 at -O3
// warns (-Wrestrict, a false positive) on "literal" + std::string.
std::string quoted(std::string_view text, std::string_view rest) {
  std::string out;
  out.reserve(text.size() + rest.size() + 2);
  out += '\'';
  out += text;
  out += '\'';
  out += rest;
  return out;
}

}  // namespace

std::string parse_duration(std::string_view text, std::chrono::seconds& out) {
  static constexpr std::string_view syntax =
      "; a DURATION is NUMBER UNIT pairs with units d, h, m, s in that order, like 90s, 10m or 1h30m";
  if (text.empty()) return std::string("an empty DURATION").append(syntax);
  constexpr std::string_view units = "dhms";
  constexpr std::int64_t unit_seconds[] = {86400, 3600, 60, 1};
  std::size_t next_unit = 0;  // units must come in decreasing order
  std::int64_t total = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t digits_start = pos;
    std::int64_t number = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      if (pos - digits_start == 10) return quoted(text, " has a number too long to be a DURATION");
      number = number * 10 + (text[pos] - '0');
      ++pos;
    }
    if (pos == digits_start) return quoted(text, " is not a DURATION") + std::string(syntax);
    if (pos == text.size()) {
      return quoted(text, " lacks a unit after ") +
             std::string(text.substr(digits_start)) + std::string(syntax);
    }
    const std::size_t unit = units.find(text[pos]);
    if (unit == std::string_view::npos) {
      return quoted(text, " has unknown unit '") + text[pos] + "'" + std::string(syntax);
    }
    if (unit < next_unit) {
      return quoted(text, " repeats a unit or puts them out of order") + std::string(syntax);
    }
    next_unit = unit + 1;
    total += number * unit_seconds[unit];  // at most 10 digits times 86400: no overflow
    if (total > max_duration.count()) return quoted(text, " is longer than 365d, the longest DURATION");
    ++pos;
  }
  if (total == 0) return quoted(text, " is zero; a DURATION must be more than zero");
  out = std::chrono::seconds{total};
  return {};
}

std::string format_duration(std::chrono::nanoseconds span) {
  std::string out;
  if (span < std::chrono::nanoseconds::zero()) {
    out += '-';
    span = -span;  // callers never pass the minimum, whose negation overflows
  }
  const long long ms = std::chrono::duration_cast<std::chrono::milliseconds>(span).count();
  const long long parts[] = {ms / 86'400'000, ms / 3'600'000 % 24, ms / 60'000 % 60};
  constexpr char part_units[] = {'d', 'h', 'm'};
  for (std::size_t i = 0; i < std::size(parts); ++i) {
    if (parts[i] != 0) out += std::to_string(parts[i]) + part_units[i];
  }
  const long long seconds = ms / 1000 % 60, millis = ms % 1000;
  if (millis != 0) {
    char fraction[8];
    std::snprintf(fraction, sizeof fraction, ".%03lld", millis);
    std::string digits = fraction;
    while (digits.back() == '0') digits.pop_back();
    out += std::to_string(seconds) + digits + 's';
  } else if (seconds != 0 || ms == 0) {
    out += std::to_string(seconds) + 's';
  }
  return out;
}

std::string format_rfc3339_utc(std::chrono::sys_time<std::chrono::nanoseconds> instant, fraction_digits digits) {
  using namespace std::chrono;
  const sys_days day = floor<days>(instant);
  const year_month_day date{day};
  const hh_mm_ss<nanoseconds> time{instant - day};
  char buffer[48];
  int written = std::snprintf(buffer, sizeof buffer, "%04d-%02u-%02uT%02lld:%02lld:%02lld", int{date.year()},
                              unsigned{date.month()}, unsigned{date.day()},
                              static_cast<long long>(time.hours().count()),
                              static_cast<long long>(time.minutes().count()),
                              static_cast<long long>(time.seconds().count()));
  const long long fraction = time.subseconds().count();
  if (digits == fraction_digits::nanoseconds || fraction != 0) {
    written += std::snprintf(buffer + written, sizeof buffer - written, ".%09lld", fraction);
    if (digits == fraction_digits::significant) {
      while (buffer[written - 1] == '0') --written;
    }
  }
  return std::string(buffer, static_cast<std::size_t>(written)) + 'Z';
}

}  // namespace cli
