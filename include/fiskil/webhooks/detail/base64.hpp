// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "constant_time.hpp"

// Strict RFC 4648 base64 (standard alphabet, '=' padding required, canonical
// encodings only), decoded and encoded without tables: the same code decodes
// the signing secret, so no branch or memory index may depend on a character.
// Only the verdict and the output length (public: they follow from the input
// length and the position of '=') are declassified.
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

// decode reads `text` (already trimmed by the caller) and writes the decoded
// bytes to out[0, capacity). On any verdict but ok, nothing in out is
// meaningful and the written prefix has been zeroed.
inline decode_result decode(std::string_view text, unsigned char* out, std::size_t capacity) noexcept {
  using namespace ct;
  std::uint32_t any_whitespace = 0, any_url_safe = 0, any_invalid = 0;
  std::uint32_t seen_padding = 0, misplaced = 0, padding_count = 0;
  for (const char ch : text) {
    const std::uint32_t c = static_cast<unsigned char>(ch);
    const sextet s = decode_char(c);
    const std::uint32_t is_pad = mask_if_equal(c, '=');
    const std::uint32_t is_ws = mask_if_equal(c, ' ') | mask_if_equal(c, '\t') |
                                mask_if_equal(c, '\r') | mask_if_equal(c, '\n') |
                                mask_if_equal(c, '\f') | mask_if_equal(c, '\v');
    const std::uint32_t is_url = mask_if_equal(c, '-') | mask_if_equal(c, '_');
    any_whitespace |= is_ws;
    any_url_safe |= is_url;
    any_invalid |= ~(s.valid | is_pad | is_ws | is_url);
    misplaced |= seen_padding & ~is_pad;
    seen_padding |= is_pad;
    padding_count += is_pad & 1u;
  }
  // The character classes are the verdict and the padding count fixes the
  // output length, which the input length already bounds: both are public.
  if (ct::declassified(any_whitespace) != 0) return {status::whitespace, 0};
  if (ct::declassified(any_url_safe) != 0) return {status::url_safe, 0};
  if (ct::declassified(any_invalid) != 0) return {status::invalid_character, 0};
  if (ct::declassified(misplaced) != 0) return {status::padding_misplaced, 0};
  const std::size_t pads = ct::declassified(padding_count);

  const std::size_t data_chars = text.size() - pads;
  const std::size_t tail = data_chars % 4;
  if (tail == 1) return {status::impossible_length, 0};
  const std::size_t required_pads = (4 - tail) % 4;
  if (pads < required_pads) return {status::padding_missing, 0};
  if (pads > required_pads) return {status::padding_extra, 0};
  const std::size_t size = data_chars / 4 * 3 + (tail == 0 ? 0 : tail - 1);
  if (size > capacity) return {status::output_too_small, 0};

  const auto at = [&](std::size_t i) {
    return decode_char(static_cast<unsigned char>(text[i])).value;
  };
  std::size_t o = 0, i = 0;
  for (; i + 4 <= data_chars; i += 4) {
    const std::uint32_t v = at(i) << 18 | at(i + 1) << 12 | at(i + 2) << 6 | at(i + 3);
    out[o++] = static_cast<unsigned char>(v >> 16);
    out[o++] = static_cast<unsigned char>(v >> 8);
    out[o++] = static_cast<unsigned char>(v);
  }
  std::uint32_t unused_bits = 0;
  if (tail == 2) {
    const std::uint32_t s0 = at(i), s1 = at(i + 1);
    out[o++] = static_cast<unsigned char>(s0 << 2 | s1 >> 4);
    unused_bits = s1 & 0x0Fu;
  } else if (tail == 3) {
    const std::uint32_t s0 = at(i), s1 = at(i + 1), s2 = at(i + 2);
    out[o++] = static_cast<unsigned char>(s0 << 2 | s1 >> 4);
    out[o++] = static_cast<unsigned char>(s1 << 4 | s2 >> 2);
    unused_bits = s2 & 0x03u;
  }
  if (ct::declassified(mask_if_nonzero(unused_bits)) != 0) {
    for (std::size_t k = 0; k < o; ++k) out[k] = 0;
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
