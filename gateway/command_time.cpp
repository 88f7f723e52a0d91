// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
#include "command_time.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <string_view>

#include "config.hpp"

namespace fiskil::gateway {

std::optional<std::int64_t> parse_command_time(const std::string& text, std::int64_t now_ns) {
  std::chrono::nanoseconds ago{};
  if (parse_duration(text, ago)) return now_ns - ago.count();
  std::tm tm{};
  int consumed = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                  &tm.tm_min, &tm.tm_sec, &consumed) != 6)
    return std::nullopt;
  std::string_view rest = std::string_view(text).substr(static_cast<std::size_t>(consumed));
  if (!rest.empty() && rest.front() == '.') {
    rest.remove_prefix(1);
    while (!rest.empty() && rest.front() >= '0' && rest.front() <= '9') rest.remove_prefix(1);
  }
  if (rest != "Z") return std::nullopt;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  const std::time_t t = timegm(&tm);
  if (t == -1) return std::nullopt;
  return static_cast<std::int64_t>(t) * 1'000'000'000;
}

}  // namespace fiskil::gateway
