// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
#pragma once

// The crypto backend: BoringSSL by default when its headers are on the
// include path, OpenSSL 3 otherwise, or whichever one
// FISKIL_WEBHOOKS_CRYPTO_BORINGSSL / FISKIL_WEBHOOKS_CRYPTO_OPENSSL names.
//
// Both backends are used through their low-level SHA256_CTX interface: a plain
// struct that can be copied, so the HMAC pads are hashed once per key and
// every verification starts from a copy, with no allocation. (OpenSSL 3's EVP
// interface would allocate a context per copy.)

#if defined(FISKIL_WEBHOOKS_CRYPTO_BORINGSSL) && defined(FISKIL_WEBHOOKS_CRYPTO_OPENSSL)
#error "fiskil-webhooks: define at most one of FISKIL_WEBHOOKS_CRYPTO_BORINGSSL and FISKIL_WEBHOOKS_CRYPTO_OPENSSL"
#endif
#if !defined(FISKIL_WEBHOOKS_CRYPTO_BORINGSSL) && !defined(FISKIL_WEBHOOKS_CRYPTO_OPENSSL)
#if __has_include(<openssl/is_boringssl.h>)
#define FISKIL_WEBHOOKS_CRYPTO_BORINGSSL 1
#else
#define FISKIL_WEBHOOKS_CRYPTO_OPENSSL 1
#endif
#endif

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <type_traits>

#if defined(FISKIL_WEBHOOKS_CRYPTO_BORINGSSL)
#include <openssl/base.h>
#include <openssl/mem.h>
#include <openssl/sha.h>
#if !defined(OPENSSL_IS_BORINGSSL)
#error "fiskil-webhooks: FISKIL_WEBHOOKS_CRYPTO_BORINGSSL is set but <openssl/sha.h> is not BoringSSL's; put BoringSSL's include directory (Debian: /usr/include/android) first"
#endif
#else
#include <openssl/opensslv.h>
#if !defined(OPENSSL_VERSION_MAJOR) || OPENSSL_VERSION_MAJOR < 3
#error "fiskil-webhooks: the OpenSSL backend needs OpenSSL 3"
#endif
#if defined(OPENSSL_NO_DEPRECATED_3_0)
#error "fiskil-webhooks: the OpenSSL backend needs SHA256_Init/Update/Final (allocation-free); do not build with OPENSSL_NO_DEPRECATED_3_0 or OPENSSL_API_COMPAT >= 30000"
#endif
#include <openssl/crypto.h>
#include <openssl/sha.h>
#endif

namespace fiskil::webhooks::detail::sha256 {

using context = SHA256_CTX;
inline constexpr std::size_t block_size = 64;
inline constexpr std::size_t digest_size = 32;

#if defined(FISKIL_WEBHOOKS_CRYPTO_BORINGSSL)
inline constexpr std::string_view backend_name = "BoringSSL";
#else
inline constexpr std::string_view backend_name = "OpenSSL 3";
#endif

// wipe zeroes memory in a way the optimiser may not remove: memset, then a
// barrier that tells the compiler the memory is read (OPENSSL_cleanse's own
// technique, inlined to save a call on the hot path).
inline void wipe(void* p, std::size_t n) noexcept {
#if defined(__GNUC__) || defined(__clang__)
  std::memset(p, 0, n);
  __asm__ __volatile__("" : : "r"(p) : "memory");
#else
  OPENSSL_cleanse(p, n);
#endif
}

#if defined(__GNUC__) || defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#endif

inline void init(context& c) noexcept { SHA256_Init(&c); }
inline void update(context& c, const void* data, std::size_t size) noexcept {
  SHA256_Update(&c, data, size);
}
inline void finish(context& c, unsigned char (&digest)[digest_size]) noexcept {
  SHA256_Final(digest, &c);
}

// The per-delivery path works on bare chaining values rather than on a
// whole SHA256_CTX: HMAC's pads are hashed once per key, so each message
// continues from a state that has absorbed exactly one block, and its
// padding is known in advance. absorb_final hands whole blocks of the body
// straight to the backend's block function and assembles the padded tail
// itself, which skips SHA256_Update's buffering and SHA256_Final's
// bookkeeping: the same compressions, one call fewer, no copies of the
// 64-byte buffer.
//
// chaining is the eight-word chaining value plus whatever the backend needs
// to run its block function on it: BoringSSL exposes that function
// (SHA256_TransformBlocks); OpenSSL 3 reaches it through SHA256_Update on
// whole blocks, which compresses them in place without buffering when no
// partial block is pending (num == 0).
#if defined(FISKIL_WEBHOOKS_CRYPTO_BORINGSSL)
struct chaining {
  std::uint32_t h[8];
};
inline void start(chaining& s, const context& from) noexcept { std::memcpy(s.h, from.h, sizeof s.h); }
inline void compress(chaining& s, const unsigned char* blocks, std::size_t count) noexcept {
  SHA256_TransformBlocks(s.h, blocks, count);
}
inline const std::uint32_t* words(const chaining& s) noexcept { return s.h; }
#else
struct chaining {
  context c;
};
// Only the fields SHA256_Update reads are set: the length counters (which
// only SHA256_Final uses, and which are not used here) and num, the pending
// partial-block length, which stays 0 because only whole blocks are passed.
inline void start(chaining& s, const context& from) noexcept {
  std::memcpy(s.c.h, from.h, sizeof s.c.h);
  s.c.Nl = 0;
  s.c.Nh = 0;
  s.c.num = 0;
}
inline void compress(chaining& s, const unsigned char* blocks, std::size_t count) noexcept {
  SHA256_Update(&s.c, blocks, count * block_size);
}
inline const std::uint32_t* words(const chaining& s) noexcept { return s.c.h; }
#endif

// store_big_endian writes value most significant byte first, with one
// store (compilers do not always see the idiom in a loop of byte stores).
template <class Word>
inline void store_big_endian(unsigned char* out, Word value) noexcept {
  static_assert(std::is_same_v<Word, std::uint32_t> || std::is_same_v<Word, std::uint64_t>);
  if constexpr (std::endian::native == std::endian::little) {
#if defined(__GNUC__) || defined(__clang__)
    if constexpr (sizeof(Word) == 4) value = __builtin_bswap32(value);
    if constexpr (sizeof(Word) == 8) value = __builtin_bswap64(value);
    std::memcpy(out, &value, sizeof value);
    return;
#endif
  }
  for (std::size_t i = 0; i < sizeof value; ++i)
    out[i] = static_cast<unsigned char>(value >> (8 * (sizeof value - 1 - i)));
}

// store_digest writes the chaining value as the digest: big-endian words.
inline void store_digest(const chaining& s, unsigned char* out) noexcept {
  const std::uint32_t* h = words(s);
  for (std::size_t i = 0; i < 8; ++i) store_big_endian(out + 4 * i, h[i]);
}

// absorb_final hashes data[0, size) and SHA-256's padding into s, which has
// absorbed `absorbed` bytes so far (a multiple of the block size); the digest
// is then store_digest(s). The tail (the last partial block, 0x80, zeros and
// the length in bits) is built in one or two blocks on the stack; it holds
// message bytes only, which the caller's key does not make secret.
inline void absorb_final(chaining& s, std::uint64_t absorbed, const unsigned char* data, std::size_t size) noexcept {
  const std::size_t whole = size & ~(block_size - 1);
  if (whole != 0) compress(s, data, whole / block_size);
  const std::size_t rest = size - whole;
  alignas(64) unsigned char tail[2 * block_size] = {};
  if (rest != 0) std::memcpy(tail, data + whole, rest);  // data may be null for an empty body
  tail[rest] = 0x80;
  const std::size_t tail_blocks = rest < block_size - 8 ? 1 : 2;
  store_big_endian(tail + tail_blocks * block_size - 8, (absorbed + size) * 8);
  compress(s, tail, tail_blocks);
}

// absorb_final_digest is absorb_final for a message whose remaining part is
// one SHA-256 digest after exactly one block (HMAC's outer hash: the opad
// block, then the inner digest): the padding is fixed, so the final block
// is assembled with wide copies, not byte stores, and the hash's vector
// loads do not stall on store forwarding.
inline void absorb_final_digest(chaining& s, const chaining& digest_of) noexcept {
  // 0x80, zeros, then the message length in bits (768) as a 64-bit big-endian value.
  static constexpr unsigned char padding[block_size - digest_size] = {
      0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
      0,    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x03, 0x00};
  alignas(64) unsigned char block[block_size];
  store_digest(digest_of, block);
  std::memcpy(block + digest_size, padding, sizeof padding);
  compress(s, block, 1);
  wipe(block, sizeof block);
}

#if defined(__GNUC__) || defined(__clang__)
#pragma GCC diagnostic pop
#endif

// compare is CRYPTO_memcmp itself: zero when equal, and the caller turns it
// into a mask without branching.
inline int compare(const void* a, const void* b, std::size_t n) noexcept {
  return CRYPTO_memcmp(a, b, n);
}

}  // namespace fiskil::webhooks::detail::sha256
