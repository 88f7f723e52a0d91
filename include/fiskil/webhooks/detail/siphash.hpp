// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
//
// SipHash-2-4 (Aumasson and Bernstein, 2012), the keyed hash the idempotency
// store and the consent tracker keep instead of the ids themselves, and a
// source of random keys for it.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <random>
#include <string_view>

#if __has_include(<sys/random.h>)
#include <sys/random.h>
#define FISKIL_WEBHOOKS_HAVE_GETRANDOM 1
#endif

namespace fiskil::webhooks::detail::siphash {

// key is SipHash's 128-bit key as two little-endian 64-bit words.
struct key {
  std::uint64_t k0 = 0;
  std::uint64_t k1 = 0;
};

constexpr std::uint64_t rotl(std::uint64_t x, int b) noexcept { return (x << b) | (x >> (64 - b)); }

inline std::uint64_t load_le64(const unsigned char* p) noexcept {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

struct state {
  std::uint64_t v0, v1, v2, v3;
  void round() noexcept {
    v0 += v1; v1 = rotl(v1, 13); v1 ^= v0; v0 = rotl(v0, 32);
    v2 += v3; v3 = rotl(v3, 16); v3 ^= v2;
    v0 += v3; v3 = rotl(v3, 21); v3 ^= v0;
    v2 += v1; v1 = rotl(v1, 17); v1 ^= v2; v2 = rotl(v2, 32);
  }
  void absorb(std::uint64_t m) noexcept {
    v3 ^= m;
    round();
    round();
    v0 ^= m;
  }
};

// hash is SipHash-2-4 of text under k, its 64-bit output as an integer (the
// reference implementation's output bytes, read little-endian).
inline std::uint64_t hash(const key& k, std::string_view text) noexcept {
  state s{k.k0 ^ 0x736f6d6570736575ull, k.k1 ^ 0x646f72616e646f6dull, k.k0 ^ 0x6c7967656e657261ull,
          k.k1 ^ 0x7465646279746573ull};
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t size = text.size();
  const std::size_t whole = size & ~std::size_t{7};
  for (std::size_t i = 0; i < whole; i += 8) s.absorb(load_le64(p + i));
  unsigned char tail[8] = {};
  if (size != whole) std::memcpy(tail, p + whole, size - whole);  // p may be null when size is 0
  tail[7] = static_cast<unsigned char>(size);
  s.absorb(load_le64(tail));
  s.v2 ^= 0xff;
  s.round();
  s.round();
  s.round();
  s.round();
  return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}

// random_key draws a key from the operating system (getrandom, falling back
// to std::random_device). It is called once per store, at construction. When
// the system has no randomness at all, std::random_device throws and the
// process terminates: a store with a predictable key would let senders
// choose ids that collide, so there is no quiet fallback.
inline key random_key() noexcept {
  std::array<unsigned char, 16> bytes{};
  std::size_t filled = 0;
#if defined(FISKIL_WEBHOOKS_HAVE_GETRANDOM)
  while (filled < bytes.size()) {
    const ssize_t got = ::getrandom(bytes.data() + filled, bytes.size() - filled, 0);
    if (got <= 0) break;
    filled += static_cast<std::size_t>(got);
  }
#endif
  if (filled < bytes.size()) {
    std::random_device device;
    for (std::size_t i = 0; i < bytes.size(); i += 4) {
      const std::uint32_t word = device();
      std::memcpy(bytes.data() + i, &word, 4);
    }
  }
  return {load_le64(bytes.data()), load_le64(bytes.data() + 8)};
}

}  // namespace fiskil::webhooks::detail::siphash
