// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
//
// Shared by the fuzz harnesses: property checks that abort (so libFuzzer
// records the input as a crash, and the corpus replay fails), the fixed keys,
// and small independent reference implementations to compare against.
#pragma once

#include <fiskil/webhooks.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

namespace fuzz {

namespace fw = fiskil::webhooks;

// FUZZ_CHECK aborts with the violated property. It is not assert(): it stays
// on in release builds, and it needs no exceptions.
#define FUZZ_CHECK(condition)                                                                      \
  do {                                                                                             \
    if (!(condition)) ::fuzz::violated(#condition, __FILE__, __LINE__);                            \
  } while (false)

[[noreturn]] inline void violated(const char* what, const char* file, int line) {
  std::fprintf(stderr, "%s:%d: property violated: %s\n", file, line, what);
  std::fflush(stderr);
  std::abort();
}

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
  // libFuzzer may pass a null pointer with size 0.
  return size == 0 ? std::string_view{} : std::string_view{reinterpret_cast<const char*>(data), size};
}

// The fixture secrets (tests/fixtures/secret.b64 and secret_rotated.b64),
// inlined so the harnesses need no files at run time.
inline constexpr std::string_view secret_a = "IhLQ/oys9Bku+gmxsTXozVr6eFFLzu8AI2iUcZyljc96th0cvnMzBPYwr50CNvQu";
inline constexpr std::string_view secret_b = "Zmlza2lsLXdlYmhvb2tzLXJvdGF0aW9uLXRlc3Qta2V5LZgIkr5tOzZxGQ==";

inline const fw::signing_key& key_a() {
  static const fw::signing_key key = *fw::signing_key::from_base64(secret_a);
  return key;
}
inline const fw::signing_key& key_b() {
  static const fw::signing_key key = *fw::signing_key::from_base64(secret_b);
  return key;
}

// naive_base64_decode is a deliberately plain strict RFC 4648 decoder, written
// independently of detail::base64: length a multiple of 4, alphabet
// characters, then at most two '=', and zero unused bits. nullopt otherwise.
inline std::optional<std::string> naive_base64_decode(std::string_view text) {
  static constexpr std::string_view alphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  if (text.size() % 4 != 0) return std::nullopt;
  std::size_t pads = 0;
  while (pads < text.size() && text[text.size() - 1 - pads] == '=') ++pads;
  if (pads > 2) return std::nullopt;
  std::string bits;
  for (std::size_t i = 0; i + pads < text.size(); ++i) {
    const std::size_t value = alphabet.find(text[i]);
    if (value == std::string_view::npos) return std::nullopt;
    for (int b = 5; b >= 0; --b) bits += ((value >> b) & 1) != 0 ? '1' : '0';
  }
  const std::size_t byte_count = bits.size() / 8;
  if (byte_count != text.size() / 4 * 3 - pads) return std::nullopt;
  for (std::size_t i = byte_count * 8; i < bits.size(); ++i) {
    if (bits[i] != '0') return std::nullopt;
  }
  std::string bytes;
  for (std::size_t i = 0; i < byte_count; ++i) {
    int byte = 0;
    for (std::size_t b = 0; b < 8; ++b) byte = byte * 2 + (bits[i * 8 + b] - '0');
    bytes += static_cast<char>(byte);
  }
  return bytes;
}

inline std::string base64_encode(std::string_view bytes) {
  std::string text(fw::detail::base64::encoded_size(bytes.size()), '?');
  fw::detail::base64::encode(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), text.data());
  return text;
}

// trim drops the given characters from both ends.
inline std::string_view trim(std::string_view text, std::string_view blanks) {
  const std::size_t first = text.find_first_not_of(blanks);
  if (first == std::string_view::npos) return {};
  const std::size_t last = text.find_last_not_of(blanks);
  return text.substr(first, last - first + 1);
}

// mix is a cheap deterministic hash of the input, to pick positions for
// mutations the harness makes itself.
inline std::size_t mix(std::string_view text) {
  std::uint64_t h = 1469598103934665603u;
  for (const char c : text) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211u;
  return static_cast<std::size_t>(h ^ (h >> 29));
}

}  // namespace fuzz
