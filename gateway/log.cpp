// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
#include "log.hpp"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <string>

namespace fiskil::gateway {

namespace {

std::atomic<int> lowest_level{1};  // info
std::atomic<bool> json_format{false};

// level_rank is debug 0, info 1, warn 2, error 3; -1 for another name.
int level_rank(std::string_view level) noexcept {
  if (level == "debug") return 0;
  if (level == "info") return 1;
  if (level == "warn") return 2;
  if (level == "error") return 3;
  return -1;
}

void append_logfmt_value(std::string& line, std::string_view value) {
  bool quote = value.empty();
  for (const char c : value) {
    if (c == ' ' || c == '"' || c == '=' || c == '\\' || static_cast<unsigned char>(c) < 0x20) quote = true;
  }
  if (!quote) {
    line += value;
    return;
  }
  line += '"';
  for (const char c : value) {
    if (c == '"' || c == '\\') {
      line += '\\';
      line += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      line += ' ';
    } else {
      line += c;
    }
  }
  line += '"';
}

// utf8_length is the length of the well-formed UTF-8 sequence at the start
// of s (RFC 3629: no overlongs, surrogates or code points past U+10FFFF), or 0.
std::size_t utf8_length(std::string_view s) noexcept {
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
  const auto continuation = [&](std::size_t i) { return i < s.size() && (byte(i) & 0xC0) == 0x80; };
  const unsigned char b = byte(0);
  if (b < 0x80) return 1;
  if (b >= 0xC2 && b <= 0xDF) return continuation(1) ? 2 : 0;
  if (b >= 0xE0 && b <= 0xEF) {
    if (!continuation(1) || !continuation(2)) return 0;
    if (b == 0xE0 && byte(1) < 0xA0) return 0;   // overlong
    if (b == 0xED && byte(1) >= 0xA0) return 0;  // surrogate
    return 3;
  }
  if (b >= 0xF0 && b <= 0xF4) {
    if (!continuation(1) || !continuation(2) || !continuation(3)) return 0;
    if (b == 0xF0 && byte(1) < 0x90) return 0;   // overlong
    if (b == 0xF4 && byte(1) >= 0x90) return 0;  // past U+10FFFF
    return 4;
  }
  return 0;
}

void append_json_string(std::string& line, std::string_view value) {
  static constexpr char hex[] = "0123456789abcdef";
  line += '"';
  while (!value.empty()) {
    const unsigned char c = static_cast<unsigned char>(value.front());
    const std::size_t n = utf8_length(value);
    if (n == 0) {
      line += "\\ufffd";
      value.remove_prefix(1);
      continue;
    }
    if (c == '"' || c == '\\') {
      line += '\\';
      line += static_cast<char>(c);
    } else if (c < 0x20 || c == 0x7F) {
      line += "\\u00";
      line += hex[c >> 4];
      line += hex[c & 0xF];
    } else {
      line.append(value.data(), n);
    }
    value.remove_prefix(n);
  }
  line += '"';
}

std::string timestamp() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  const auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char stamp[48];
  const std::size_t n = std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &utc);
  std::snprintf(stamp + n, sizeof stamp - n, ".%03dZ", static_cast<int>(millis));
  return stamp;
}

}  // namespace

bool log_enabled(std::string_view level) noexcept {
  return level_rank(level) >= lowest_level.load(std::memory_order_relaxed) || level_rank(level) < 0;
}

bool set_log_level(std::string_view level) noexcept {
  const int rank = level_rank(level);
  if (rank < 0) return false;
  lowest_level.store(rank, std::memory_order_relaxed);
  return true;
}

bool set_log_format(std::string_view format) noexcept {
  if (format != "logfmt" && format != "json") return false;
  json_format.store(format == "json", std::memory_order_relaxed);
  return true;
}

void log(std::string_view level, std::string_view event, std::initializer_list<log_field> fields) {
  log(level, event, std::span<const log_field>(fields.begin(), fields.size()));
}

void log(std::string_view level, std::string_view event, std::span<const log_field> fields) {
  if (!log_enabled(level)) return;
  std::string line;
  if (json_format.load(std::memory_order_relaxed)) {
    line = "{\"time\":";
    append_json_string(line, timestamp());
    line += ",\"level\":";
    append_json_string(line, level);
    line += ",\"event\":";
    append_json_string(line, event);
    for (const auto& [key, value] : fields) {
      line += ',';
      append_json_string(line, key);
      line += ':';
      append_json_string(line, value);
    }
    line += "}\n";
  } else {
    line = "time=" + timestamp() + " level=";
    line += level;
    line += " event=";
    line += event;
    for (const auto& [key, value] : fields) {
      line += ' ';
      line += key;
      line += '=';
      append_logfmt_value(line, value);
    }
    line += '\n';
  }
  const char* p = line.data();
  std::size_t left = line.size();
  while (left > 0) {
    const ssize_t wrote = ::write(STDERR_FILENO, p, left);
    if (wrote <= 0) break;
    p += wrote;
    left -= static_cast<std::size_t>(wrote);
  }
}

}  // namespace fiskil::gateway
