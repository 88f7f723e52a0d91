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

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

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

// finish_after_block hashes the last 32 bytes of a message of exactly one
// block plus 32 bytes (the HMAC outer hash: the key pad, then the inner
// digest): the padding is fixed, so the final block is assembled here and
// compressed once, with no buffering. The block is built with wide copies,
// not byte stores, so the hash's vector loads do not stall on store
// forwarding.
inline void finish_after_block(context& c, const unsigned char (&tail)[digest_size],
                               unsigned char (&digest)[digest_size]) noexcept {
  // 0x80, zeros, then the message length in bits (768) as a 64-bit big-endian value.
  static constexpr unsigned char padding[block_size - digest_size] = {
      0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
      0,    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x03, 0x00};
  alignas(16) unsigned char block[block_size];
  std::memcpy(block, tail, digest_size);
  std::memcpy(block + digest_size, padding, sizeof padding);
  SHA256_Transform(&c, block);
  for (std::size_t i = 0; i < 8; ++i) {
    const std::uint32_t word = c.h[i];
    const unsigned char big_endian[4] = {static_cast<unsigned char>(word >> 24), static_cast<unsigned char>(word >> 16),
                                         static_cast<unsigned char>(word >> 8), static_cast<unsigned char>(word)};
    std::memcpy(digest + 4 * i, big_endian, 4);
  }
}

#if defined(__GNUC__) || defined(__clang__)
#pragma GCC diagnostic pop
#endif

// equal reports whether a[0, n) == b[0, n) in time that depends only on n.
// CRYPTO_memcmp says "equal" for n == 0; callers check lengths first.
inline bool equal(const void* a, const void* b, std::size_t n) noexcept {
  return CRYPTO_memcmp(a, b, n) == 0;
}

// compare is CRYPTO_memcmp itself: zero when equal, and the caller turns it
// into a mask without branching.
inline int compare(const void* a, const void* b, std::size_t n) noexcept {
  return CRYPTO_memcmp(a, b, n);
}

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

}  // namespace fiskil::webhooks::detail::sha256
