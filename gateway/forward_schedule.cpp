// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
#include "forward_schedule.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>

namespace fiskil::gateway {

std::string_view attempt_class_name(attempt_class c) noexcept {
  switch (c) {
    case attempt_class::ok_2xx: return "2xx";
    case attempt_class::status_4xx: return "4xx";
    case attempt_class::status_5xx: return "5xx";
    case attempt_class::timeout: return "timeout";
    case attempt_class::connection: return "connection";
    case attempt_class::other: return "other";
  }
  return "other";
}

attempt_class classify_status(int status) noexcept {
  if (status >= 200 && status < 300) return attempt_class::ok_2xx;
  if (status >= 400 && status < 500) return attempt_class::status_4xx;
  if (status >= 500 && status < 600) return attempt_class::status_5xx;
  return attempt_class::other;
}

verdict judge_status(int status) noexcept {
  if (status >= 200 && status < 300) return verdict::delivered;
  if (status == 410) return verdict::pause;
  return verdict::retry;
}

namespace {

bool number(std::string_view text, std::int64_t& out) {
  if (text.empty()) return false;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc{} && end == text.data() + text.size() && out >= 0;
}

// days_from_civil: days since 1970-01-01 of a proleptic Gregorian date
// (Howard Hinnant's algorithm).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) noexcept {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

// http_date reads IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT".
bool http_date(std::string_view text, std::int64_t& unix_seconds) {
  if (text.size() != 29 || text[3] != ',' || text[4] != ' ' || text[7] != ' ' || text[11] != ' ' ||
      text[16] != ' ' || text[19] != ':' || text[22] != ':' || text.substr(25) != " GMT")
    return false;
  static constexpr std::array<std::string_view, 12> months = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                              "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const auto found = std::find(months.begin(), months.end(), text.substr(8, 3));
  if (found == months.end()) return false;
  std::int64_t day = 0, year = 0, hour = 0, minute = 0, second = 0;
  if (!number(text.substr(5, 2), day) || !number(text.substr(12, 4), year) || !number(text.substr(17, 2), hour) ||
      !number(text.substr(20, 2), minute) || !number(text.substr(23, 2), second))
    return false;
  if (day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return false;
  const auto month = static_cast<unsigned>(found - months.begin()) + 1;
  unix_seconds = days_from_civil(year, month, static_cast<unsigned>(day)) * 86400 + hour * 3600 + minute * 60 + second;
  return true;
}

}  // namespace

std::optional<std::chrono::seconds> parse_retry_after(std::string_view value, std::int64_t now_unix_seconds) noexcept {
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  std::int64_t seconds = 0;
  if (number(value, seconds)) return std::chrono::seconds{std::min<std::int64_t>(seconds, 366LL * 86400)};
  std::int64_t at = 0;
  if (http_date(value, at)) return std::chrono::seconds{std::clamp<std::int64_t>(at - now_unix_seconds, 0, 366LL * 86400)};
  return std::nullopt;
}

std::chrono::nanoseconds backoff_delay(int failed, std::chrono::nanoseconds base, std::chrono::nanoseconds max,
                                       double random01) noexcept {
  const int doublings = std::clamp(failed - 1, 0, 62);
  // base * 2^doublings without overflow: stop doubling past max.
  std::int64_t delay = std::max<std::int64_t>(base.count(), 1);
  for (int i = 0; i < doublings && delay < max.count(); ++i) delay = delay > INT64_MAX / 2 ? INT64_MAX : delay * 2;
  delay = std::min(delay, std::max<std::int64_t>(max.count(), 1));
  random01 = std::clamp(random01, 0.0, 1.0);
  const auto half = static_cast<double>(delay) / 2;
  return std::chrono::nanoseconds{static_cast<std::int64_t>(half + half * random01)};
}

std::chrono::nanoseconds retry_delay(int status, std::optional<std::chrono::seconds> retry_after, int failed,
                                     std::chrono::nanoseconds base, std::chrono::nanoseconds max,
                                     double random01) noexcept {
  // The application's own Retry-After is honoured as given (parse_retry_after
  // bounds it); --forward-max-age still dead-letters a delivery in time.
  if ((status == 429 || status == 503) && retry_after) return *retry_after;
  return backoff_delay(failed, base, max, random01);
}

bool out_of_attempts(int attempts, int max_attempts, std::chrono::nanoseconds series_age,
                     std::chrono::nanoseconds max_age) noexcept {
  return attempts >= max_attempts || series_age >= max_age;
}

}  // namespace fiskil::gateway
