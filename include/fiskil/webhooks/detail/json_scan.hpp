// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
#pragma once

#include <cstddef>
#include <cstring>
#include <string_view>

// Byte-level walks over JSON text that simdjson's DOM does not offer: where
// the first value ends (to tell "trailing content" from other syntax errors)
// and the raw text of one member's value (unknown_event::data_json). They
// are used off the hot path and every step is bounds-checked, so they stay
// memory-safe even on text simdjson has refused.
namespace fiskil::webhooks::detail::json_scan {

constexpr bool is_space(char c) noexcept { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

constexpr std::size_t skip_space(std::string_view text, std::size_t pos) noexcept {
  while (pos < text.size() && is_space(text[pos])) ++pos;
  return pos;
}

// skip_string: text[pos] == '"'; returns the index just past the closing
// quote, or npos. Most of a JSON body is string content, so the closing
// quote is found with memchr; a quote preceded by an odd run of
// backslashes is escaped and the search goes on.
inline std::size_t skip_string(std::string_view text, std::size_t pos) noexcept {
  const char* const begin = text.data();
  const char* const end = begin + text.size();
  const char* p = begin + pos + 1;
  while (p < end) {
    const char* quote = static_cast<const char*>(std::memchr(p, '"', static_cast<std::size_t>(end - p)));
    if (quote == nullptr) return std::string_view::npos;
    std::size_t backslashes = 0;
    for (const char* q = quote; q > p && q[-1] == '\\'; --q) ++backslashes;
    if (backslashes % 2 == 0) return static_cast<std::size_t>(quote - begin) + 1;
    p = quote + 1;
  }
  return std::string_view::npos;
}

// skip_value returns the index just past the value starting at text[pos], or
// npos when the text ends first.
inline std::size_t skip_value(std::string_view text, std::size_t pos) noexcept {
  if (pos >= text.size()) return std::string_view::npos;
  if (text[pos] == '"') return skip_string(text, pos);
  if (text[pos] == '{' || text[pos] == '[') {
    std::size_t depth = 0;
    while (pos < text.size()) {
      const char c = text[pos];
      if (c == '"') {
        pos = skip_string(text, pos);
        if (pos == std::string_view::npos) return pos;
        continue;
      }
      if (c == '{' || c == '[') ++depth;
      if (c == '}' || c == ']') {
        if (--depth == 0) return pos + 1;
      }
      ++pos;
    }
    return std::string_view::npos;
  }
  while (pos < text.size() && !is_space(text[pos]) && text[pos] != ',' && text[pos] != '}' &&
         text[pos] != ']')
    ++pos;
  return pos;
}

// end_of_first_value returns where the document's first value ends, or npos.
inline std::size_t end_of_first_value(std::string_view text) noexcept {
  return skip_value(text, skip_space(text, 0));
}

// member_value returns the raw text of the value of the `ordinal`-th of the
// `count` members (counting from 0) of the object that makes up `text`,
// which must be valid JSON. Members are counted rather than matched by key
// so that escaped keys need no unescaping here: the caller learnt the
// ordinal from the parsed document, which keeps members in text order.
inline std::string_view member_value(std::string_view text, std::size_t ordinal, std::size_t count) noexcept {
  std::size_t pos = skip_space(text, 0);
  if (pos >= text.size() || text[pos] != '{') return {};
  ++pos;
  for (std::size_t member = 0;; ++member) {
    pos = skip_space(text, pos);
    if (pos >= text.size() || text[pos] != '"') return {};
    pos = skip_string(text, pos);
    pos = skip_space(text, pos);
    if (pos >= text.size() || text[pos] != ':') return {};
    const std::size_t start = skip_space(text, pos + 1);
    if (member == ordinal && member + 1 == count) {
      // The last member's value ends where the object's closing brace,
      // the text's last non-space character, is preceded by spaces: found
      // from the back, without walking through the value.
      std::size_t end = text.find_last_not_of(" \t\n\r");
      if (end == std::string_view::npos || end <= start || text[end] != '}') return {};
      while (end > start && is_space(text[end - 1])) --end;
      return text.substr(start, end - start);
    }
    const std::size_t end = skip_value(text, start);
    if (end == std::string_view::npos) return {};
    if (member == ordinal) return text.substr(start, end - start);
    pos = skip_space(text, end);
    if (pos >= text.size() || text[pos] != ',') return {};
    ++pos;
  }
}

}  // namespace fiskil::webhooks::detail::json_scan
