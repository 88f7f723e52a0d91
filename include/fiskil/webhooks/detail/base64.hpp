// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "constant_time.hpp"

// Strict RFC 4648 base64: the standard alphabet, '=' padding required,
// canonical encodings only. Two decoders share one set of rules:
//  - decode, for public text such as the signature header: table-driven and
//    fast, since an attacker already knows what they sent;
//  - decode_secret, for the signing secret: no branch or memory index
//    depends on a character; only the verdict and the output length (which
//    follow from the input length and the position of '=') are declassified.
// Both defer to diagnose() to say what is wrong, so they refuse the same
// texts with the same verdicts (tests/unit-base64.cpp checks this).
namespace fiskil::webhooks::detail::base64 {

enum class status : std::uint8_t {
  ok,
  whitespace,          // ' ', '\t', '\r', '\n', '\f' or '\v' inside the text
  url_safe,            // '-' or '_' (RFC 4648 section 5 alphabet)
  invalid_character,   // anything else outside the alphabet
  padding_misplaced,   // an alphabet character after '='
  impossible_length,   // 4n+1 data characters: no byte string encodes so
  padding_missing,
  padding_extra,
  non_canonical,       // unused bits of the last character are not zero
  output_too_small,
};

[[nodiscard]] constexpr std::size_t encoded_size(std::size_t byte_count) noexcept {
  return (byte_count + 2) / 3 * 4;
}

struct sextet {
  std::uint32_t value;
  std::uint32_t valid;  // mask
};

inline sextet decode_char(std::uint32_t c) noexcept {
  using namespace ct;
  const std::uint32_t upper = mask_if_in_range(c, 'A', 'Z');
  const std::uint32_t lower = mask_if_in_range(c, 'a', 'z');
  const std::uint32_t digit = mask_if_in_range(c, '0', '9');
  const std::uint32_t plus = mask_if_equal(c, '+');
  const std::uint32_t slash = mask_if_equal(c, '/');
  const std::uint32_t value = (upper & (c - 'A')) | (lower & (c - 'a' + 26)) |
                              (digit & (c - '0' + 52)) | (plus & 62u) | (slash & 63u);
  return {value & 63u, upper | lower | digit | plus | slash};
}

inline char encode_sextet(std::uint32_t v) noexcept {
  using namespace ct;
  const std::uint32_t c = (mask_if_in_range(v, 0, 25) & (v + 'A')) |
                          (mask_if_in_range(v, 26, 51) & (v - 26 + 'a')) |
                          (mask_if_in_range(v, 52, 61) & (v - 52 + '0')) |
                          (mask_if_equal(v, 62) & std::uint32_t{'+'}) |
                          (mask_if_equal(v, 63) & std::uint32_t{'/'});
  return static_cast<char>(c);
}

struct decode_result {
  status verdict;
  std::size_t size;  // bytes written when verdict == ok
};

constexpr bool is_alphabet(char c) noexcept {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
}

// diagnose says why text is not strict base64, or ok. It branches on every
// character: call it on public text, or on a secret already known to be
// malformed (at start-up, where the verdict is all that matters).
constexpr status diagnose(std::string_view text) noexcept {
  bool whitespace = false, url_safe = false, invalid = false, misplaced = false, seen_pad = false;
  std::size_t pads = 0;
  for (const char c : text) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v') {
      whitespace = true;
    } else if (c == '-' || c == '_') {
      url_safe = true;
    } else if (c != '=' && !is_alphabet(c)) {
      invalid = true;
    }
    if (c == '=') {
      seen_pad = true;
      ++pads;
    } else if (seen_pad) {
      misplaced = true;
    }
  }
  if (whitespace) return status::whitespace;
  if (url_safe) return status::url_safe;
  if (invalid) return status::invalid_character;
  if (misplaced) return status::padding_misplaced;
  const std::size_t data_chars = text.size() - pads;
  const std::size_t tail = data_chars % 4;
  if (tail == 1) return status::impossible_length;
  const std::size_t required_pads = (4 - tail) % 4;
  if (pads < required_pads) return status::padding_missing;
  if (pads > required_pads) return status::padding_extra;
  if (tail != 0) {
    const std::uint32_t last = decode_char(static_cast<unsigned char>(text[data_chars - 1])).value;
    if ((last & (tail == 2 ? 0x0Fu : 0x03u)) != 0) return status::non_canonical;
  }
  return status::ok;
}

// decoded_size is the output length of well-formed text with `pads` '='.
constexpr std::size_t decoded_size(std::size_t text_size, std::size_t pads) noexcept {
  return text_size / 4 * 3 - pads;
}

// sextet_table maps a character to its 6-bit value, or 0x80 when it is not
// in the alphabet ('=' included: callers strip the padding first).
inline constexpr auto sextet_table = [] {
  std::array<std::uint8_t, 256> table{};
  for (auto& entry : table) entry = 0x80;
  constexpr std::string_view alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (std::size_t i = 0; i < alphabet.size(); ++i)
    table[static_cast<unsigned char>(alphabet[i])] = static_cast<std::uint8_t>(i);
  return table;
}();

struct decoded_groups {
  std::uint32_t all_sextets;  // OR of every sextet: 0x80 set if one was invalid
  std::uint32_t unused_bits;  // of the last data character; non-zero = non-canonical
};

// decode_groups writes the bytes of text, whose last `pads` characters are
// '=' and whose length is a multiple of 4, to out. sextet_of maps a
// character to its value (or 0x80); both decoders share this loop and differ
// only in that mapping.
template <class SextetOf>
inline decoded_groups decode_groups(std::string_view text, std::size_t pads, unsigned char* out,
                                    SextetOf sextet_of) noexcept {
  const auto at = [&](std::size_t i) -> std::uint32_t { return sextet_of(static_cast<unsigned char>(text[i])); };
  const std::size_t full_groups_end = text.size() - (pads != 0 ? 4 : 0);
  std::uint32_t all = 0;
  std::size_t o = 0, i = 0;
  for (; i < full_groups_end; i += 4) {
    const std::uint32_t a = at(i), b = at(i + 1), c = at(i + 2), d = at(i + 3);
    all |= a | b | c | d;
    const std::uint32_t v = a << 18 | b << 12 | c << 6 | d;
    out[o++] = static_cast<unsigned char>(v >> 16);
    out[o++] = static_cast<unsigned char>(v >> 8);
    out[o++] = static_cast<unsigned char>(v);
  }
  std::uint32_t unused_bits = 0;
  if (pads == 2) {
    const std::uint32_t a = at(i), b = at(i + 1);
    all |= a | b;
    out[o++] = static_cast<unsigned char>(a << 2 | b >> 4);
    unused_bits = b & 0x0Fu;
  } else if (pads == 1) {
    const std::uint32_t a = at(i), b = at(i + 1), c = at(i + 2);
    all |= a | b | c;
    out[o++] = static_cast<unsigned char>(a << 2 | b >> 4);
    out[o++] = static_cast<unsigned char>(b << 4 | c >> 2);
    unused_bits = c & 0x03u;
  }
  return {all, unused_bits};
}

// decode reads public `text` (already trimmed) into out[0, capacity).
inline decode_result decode(std::string_view text, unsigned char* out, std::size_t capacity) noexcept {
  const std::size_t n = text.size();
  std::size_t pads = 0;
  if (n % 4 == 0 && n > 0) pads = text[n - 1] != '=' ? 0 : text[n - 2] != '=' ? 1 : 2;
  if (n % 4 != 0 || (n > 0 && pads == 2 && text[n - 3] == '=')) return {diagnose(text), 0};
  const std::size_t size = decoded_size(n, pads);
  if (size > capacity) return {status::output_too_small, 0};
  const decoded_groups groups =
      decode_groups(text, pads, out, [](unsigned char c) -> std::uint32_t { return sextet_table[c]; });
  if ((groups.all_sextets & 0x80u) != 0 || groups.unused_bits != 0) return {diagnose(text), 0};
  return {status::ok, size};
}

// decode_secret is decode for secret text, in constant time: every
// character goes through the same arithmetic whatever it is.
inline decode_result decode_secret(std::string_view text, unsigned char* out, std::size_t capacity) noexcept {
  using namespace ct;
  std::uint32_t bad = 0, seen_padding = 0, padding_count = 0;
  for (const char ch : text) {
    const std::uint32_t c = static_cast<unsigned char>(ch);
    const std::uint32_t is_pad = mask_if_equal(c, '=');
    bad |= ~(decode_char(c).valid | is_pad);  // outside the alphabet
    bad |= seen_padding & ~is_pad;           // data after padding
    seen_padding |= is_pad;
    padding_count += is_pad & 1u;
  }
  // Whether the text is well formed is the verdict, and the padding count
  // fixes the output length: both are public. A malformed secret is
  // diagnosed without constant-time care; it is refused either way.
  const std::size_t pads = ct::declassified(padding_count);
  if (ct::declassified(bad) != 0 || text.size() % 4 != 0 || pads > 2) return {diagnose(text), 0};
  const std::size_t size = text.empty() ? 0 : decoded_size(text.size(), pads);
  if (size > capacity) return {status::output_too_small, 0};
  const decoded_groups groups =
      decode_groups(text, pads, out, [](unsigned char c) { return decode_char(c).value; });
  if (ct::declassified(mask_if_nonzero(groups.unused_bits)) != 0) {
    for (std::size_t k = 0; k < size; ++k) out[k] = 0;
    return {status::non_canonical, 0};
  }
  return {status::ok, size};
}

// encode writes encoded_size(size) characters for bytes[0, size) to out.
inline void encode(const unsigned char* bytes, std::size_t size, char* out) noexcept {
  std::size_t i = 0, o = 0;
  for (; i + 3 <= size; i += 3) {
    const std::uint32_t v = std::uint32_t{bytes[i]} << 16 | std::uint32_t{bytes[i + 1]} << 8 | bytes[i + 2];
    out[o++] = encode_sextet(v >> 18);
    out[o++] = encode_sextet((v >> 12) & 63u);
    out[o++] = encode_sextet((v >> 6) & 63u);
    out[o++] = encode_sextet(v & 63u);
  }
  if (size - i == 1) {
    const std::uint32_t v = std::uint32_t{bytes[i]} << 16;
    out[o++] = encode_sextet(v >> 18);
    out[o++] = encode_sextet((v >> 12) & 63u);
    out[o++] = '=';
    out[o++] = '=';
  } else if (size - i == 2) {
    const std::uint32_t v = std::uint32_t{bytes[i]} << 16 | std::uint32_t{bytes[i + 1]} << 8;
    out[o++] = encode_sextet(v >> 18);
    out[o++] = encode_sextet((v >> 12) & 63u);
    out[o++] = encode_sextet((v >> 6) & 63u);
    out[o++] = '=';
  }
}

}  // namespace fiskil::webhooks::detail::base64
