// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
//
// fw::parse_rfc3339 on random text.
//
// Properties:
//  - it agrees, on the verdict and on the instant, with a plain reference
//    parser written here from RFC 3339's grammar on top of std::chrono's own
//    calendar (year_month_day::ok, sys_days), independent of the library's
//    fixed-width reader and civil-day arithmetic;
//  - an accepted instant, formatted back in UTC with nine fractional digits
//    and at fixed offsets, parses to the same instant (when the year as
//    written is in range);
//  - a refusal is publish_time_malformed or publish_time_out_of_range.
#include <chrono>
#include <cstdio>
#include <string>

#include "fuzz_support.hpp"

namespace {

namespace fw = fiskil::webhooks;
using namespace std::chrono;

struct reference_result {
  fw::errc error{};
  fw::timestamp time{};
};

// number reads `width` ASCII digits at text[pos], or -1.
long number(std::string_view text, std::size_t pos, std::size_t width) {
  if (pos + width > text.size()) return -1;
  long value = 0;
  for (std::size_t i = pos; i < pos + width; ++i) {
    if (text[i] < '0' || text[i] > '9') return -1;
    value = value * 10 + (text[i] - '0');
  }
  return value;
}

// reference_parse: date-time = full-date "T" full-time (RFC 3339 section
// 5.6), 'T' and 'Z' in either case, at most 9 fractional digits (the
// library's documented limit); then the library's documented ranges.
reference_result reference_parse(std::string_view text) {
  const reference_result malformed{fw::errc::publish_time_malformed, {}};
  const reference_result out_of_range{fw::errc::publish_time_out_of_range, {}};
  const long y = number(text, 0, 4), mo = number(text, 5, 2), d = number(text, 8, 2);
  const long h = number(text, 11, 2), mi = number(text, 14, 2), s = number(text, 17, 2);
  if (y < 0 || mo < 0 || d < 0 || h < 0 || mi < 0 || s < 0) return malformed;  // also: text too short
  if (text[4] != '-' || text[7] != '-' || (text[10] != 'T' && text[10] != 't') || text[13] != ':' ||
      text[16] != ':')
    return malformed;
  std::size_t pos = 19;
  long long fraction = 0;
  if (pos < text.size() && text[pos] == '.') {
    std::size_t digits = 0;
    ++pos;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      if (digits < 9) fraction = fraction * 10 + (text[pos] - '0');
      ++digits;
      ++pos;
    }
    if (digits == 0 || digits > 9) return malformed;
    for (; digits < 9; ++digits) fraction *= 10;
  }
  const std::string_view zone = text.substr(pos);
  long offset = 0;
  if (zone == "Z" || zone == "z") {
    offset = 0;
  } else if (zone.size() == 6 && (zone[0] == '+' || zone[0] == '-') && zone[3] == ':') {
    const long oh = number(zone, 1, 2), om = number(zone, 4, 2);
    if (oh < 0 || om < 0) return malformed;
    if (oh > 23 || om > 59) return out_of_range;
    offset = (zone[0] == '-' ? -1 : 1) * (oh * 60 + om);
  } else {
    return malformed;
  }
  const year_month_day date{year{static_cast<int>(y)}, month{static_cast<unsigned>(mo)},
                            day{static_cast<unsigned>(d)}};
  if (!date.ok() || y < 1678 || y > 2261 || h > 23 || mi > 59 || s > 59) return out_of_range;
  const auto instant = sys_days{date} + hours{h} + minutes{mi} + seconds{s} - minutes{offset};
  return {fw::errc{}, fw::timestamp{instant} + nanoseconds{fraction}};
}

// format writes t as local time at offset_minutes east of UTC, nine digits.
std::string format(fw::timestamp t, int offset_minutes) {
  const fw::timestamp local = t + minutes{offset_minutes};
  const sys_days day_point = floor<days>(local);
  const year_month_day date{day_point};
  const hh_mm_ss<nanoseconds> time{local - day_point};
  char text[64];
  const int a = offset_minutes < 0 ? -offset_minutes : offset_minutes;
  char zone[16] = "Z";
  if (offset_minutes != 0) std::snprintf(zone, sizeof zone, "%c%02d:%02d", offset_minutes < 0 ? '-' : '+', a / 60, a % 60);
  std::snprintf(text, sizeof text, "%04d-%02u-%02uT%02d:%02d:%02d.%09lld%s", static_cast<int>(date.year()),
                static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                static_cast<int>(time.hours().count()), static_cast<int>(time.minutes().count()),
                static_cast<int>(time.seconds().count()), static_cast<long long>(time.subseconds().count()), zone);
  return text;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = fuzz::as_text(data, size);
  const fw::result<fw::timestamp> got = fw::parse_rfc3339(text);
  const reference_result expected = reference_parse(text);
  if (!got) {
    FUZZ_CHECK(got.error() == fw::errc::publish_time_malformed || got.error() == fw::errc::publish_time_out_of_range);
    FUZZ_CHECK(got.error() == expected.error);
    return 0;
  }
  FUZZ_CHECK(expected.error == fw::errc{});
  FUZZ_CHECK(*got == expected.time);
  // Round trips, in UTC and at fixed offsets, when the year written stays in
  // range: the range applies to the year as written, so "1678-01-01T00:00:00+00:01",
  // an instant in 1677 UTC, is accepted but cannot be written in UTC.
  for (const int offset : {0, -(9 * 60 + 30), 13 * 60 + 45}) {
    const std::string shifted = format(*got, offset);
    const fw::result<fw::timestamp> back = fw::parse_rfc3339(shifted);
    const int local_year = static_cast<int>(year_month_day{floor<days>(*got + minutes{offset})}.year());
    if (local_year >= 1678 && local_year <= 2261) FUZZ_CHECK(back.has_value() && *back == *got);
  }
  return 0;
}
