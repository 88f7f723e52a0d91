// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
#pragma once

#include <bit>
#include <cstddef>
#include <cstring>
#include <string_view>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

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

// find_quote returns the first '"' in [p, end), or end: sixteen bytes at a
// time with SSE2, memchr for the tail (delivery strings are short, where a
// call to memchr costs more than the search).
inline const char* find_quote(const char* p, const char* end) noexcept {
#if defined(__SSE2__)
  const __m128i quotes = _mm_set1_epi8('"');
  while (end - p >= 16) {
    const __m128i chunk = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const unsigned found = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(chunk, quotes)));
    if (found != 0) return p + std::countr_zero(found);
    p += 16;
  }
#endif
  const void* found = std::memchr(p, '"', static_cast<std::size_t>(end - p));
  return found != nullptr ? static_cast<const char*>(found) : end;
}

// skip_string: text[pos] == '"'; returns the index just past the closing
// quote, or npos. A quote preceded by an odd run of backslashes is escaped
// and the search goes on.
inline std::size_t skip_string(std::string_view text, std::size_t pos) noexcept {
  const char* const begin = text.data();
  const char* const end = begin + text.size();
  const char* p = begin + pos + 1;
  while (p < end) {
    const char* quote = find_quote(p, end);
    if (quote == end) return std::string_view::npos;
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
      std::size_t end = text.size();
      while (end > start && is_space(text[end - 1])) --end;
      if (end <= start + 1 || text[end - 1] != '}') return {};
      --end;  // the envelope's closing brace
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

// contains_backslash reports whether text[0, size) holds a '\\'.
inline bool contains_backslash(const char* text, std::size_t size) noexcept {
  std::size_t i = 0;
#if defined(__SSE2__)
  // Independent loads, one test at the end: no search chain.
  const __m128i backslashes = _mm_set1_epi8('\\');
  __m128i any = _mm_setzero_si128();
  for (; i + 16 <= size; i += 16)
    any = _mm_or_si128(any, _mm_cmpeq_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(text + i)), backslashes));
  if (_mm_movemask_epi8(any) != 0) return true;
#endif
  return std::memchr(text + i, '\\', size - i) != nullptr;
}

// string_member gives the sizes of a member's key and string value as the
// parsed document holds them (unescaped).
struct string_member {
  std::size_t key_size;
  std::size_t value_size;
};

// compact_last_member_value is member_value for the last member of the
// object that makes up text (valid JSON), when the text is compact and the
// members before it are the given string members, in order: each delimiter
// is then where those sizes put it, and is checked rather than searched for.
// It returns an empty view when the text is not of that form (whitespace,
// escapes), and the caller falls back to member_value. Why a check is
// enough: docs/design.md, "Finding data_json without searching".
inline std::string_view compact_last_member_value(std::string_view text, const string_member* before,
                                                  std::size_t count, std::size_t key_size) noexcept {
  const std::size_t n = text.size();
  // is_string_at: a string token of content size `size` opens at pos and
  // is followed by `next`.
  const auto is_string_at = [&](std::size_t pos, std::size_t size, char next) {
    return pos + size + 2 < n && text[pos] == '"' && text[pos + size + 1] == '"' && text[pos + size + 2] == next;
  };
  if (n == 0 || text[0] != '{') return {};
  std::size_t pos = 1;
  for (std::size_t i = 0; i < count; ++i) {
    if (!is_string_at(pos, before[i].key_size, ':')) return {};
    pos += before[i].key_size + 3;
    if (!is_string_at(pos, before[i].value_size, ',')) return {};
    pos += before[i].value_size + 3;
  }
  if (!is_string_at(pos, key_size, ':')) return {};
  const std::size_t start = skip_space(text, pos + key_size + 3);
  if (contains_backslash(text.data(), start)) return {};
  // As in member_value: the value ends before the closing brace.
  std::size_t end = n;
  while (end > start && is_space(text[end - 1])) --end;
  if (end <= start + 1 || text[end - 1] != '}') return {};
  --end;
  while (end > start && is_space(text[end - 1])) --end;
  return text.substr(start, end - start);
}

}  // namespace fiskil::webhooks::detail::json_scan
