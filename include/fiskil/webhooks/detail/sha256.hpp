// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
#pragma once

// The crypto backend: BoringSSL by default when its headers are on the
// include path, OpenSSL 3 otherwise, or whichever one
// FISKIL_WEBHOOKS_CRYPTO_BORINGSSL / FISKIL_WEBHOOKS_CRYPTO_OPENSSL names.
// The MAC is computed one of three ways, chosen at compile time (every
// translation unit of a program must choose alike; `implementation` names
// it), none allocating per verification: BoringSSL's SHA256_TransformBlocks;
// OpenSSL 3's deprecated SHA256_Update (warnings silenced here); or, without
// OpenSSL's deprecated API (OPENSSL_NO_DEPRECATED_3_0, OPENSSL_API_COMPAT >=
// 30000, or FISKIL_WEBHOOKS_OPENSSL_PROVIDER), the provider's digest
// functions (provider_hasher), which abort if OpenSSL cannot provide them.
// Why, and what each costs: docs/design.md, "Verification".

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
#if defined(FISKIL_WEBHOOKS_OPENSSL_PROVIDER)
#error "fiskil-webhooks: FISKIL_WEBHOOKS_OPENSSL_PROVIDER applies to the OpenSSL backend only"
#endif
#else
// opensslv.h includes macros.h, which settles OPENSSL_API_LEVEL and
// OPENSSL_NO_DEPRECATED_3_0 from the user's OPENSSL_API_COMPAT and
// OPENSSL_NO_DEPRECATED.
#include <openssl/opensslv.h>
#if !defined(OPENSSL_VERSION_MAJOR) || OPENSSL_VERSION_MAJOR < 3
#error "fiskil-webhooks: the OpenSSL backend needs OpenSSL 3"
#endif
#if !defined(FISKIL_WEBHOOKS_OPENSSL_PROVIDER) && \
    (defined(OPENSSL_NO_DEPRECATED_3_0) || (defined(OPENSSL_API_COMPAT) && OPENSSL_API_LEVEL >= 30000))
#define FISKIL_WEBHOOKS_OPENSSL_PROVIDER 1
#endif
#include <openssl/crypto.h>
#if defined(FISKIL_WEBHOOKS_OPENSSL_PROVIDER)
#include <openssl/core.h>
#include <openssl/core_dispatch.h>
#include <openssl/evp.h>
#include <openssl/provider.h>

#include <cstdlib>
#else
#include <openssl/sha.h>
#endif
#endif

namespace fiskil::webhooks::detail::sha256 {

inline constexpr std::size_t block_size = 64;
inline constexpr std::size_t digest_size = 32;

// backend_name names the crypto library (and, for OpenSSL without its
// deprecated API, the interface): for --version lines and benchmark reports.
// implementation names the code path computing the MAC (tests check that a
// build took the one it asked for).
#if defined(FISKIL_WEBHOOKS_CRYPTO_BORINGSSL)
inline constexpr std::string_view backend_name = "BoringSSL";
inline constexpr std::string_view implementation = "SHA256_TransformBlocks";
#elif defined(FISKIL_WEBHOOKS_OPENSSL_PROVIDER)
inline constexpr std::string_view backend_name = "OpenSSL 3 (no deprecated API)";
inline constexpr std::string_view implementation = "provider digest";
#else
inline constexpr std::string_view backend_name = "OpenSSL 3";
inline constexpr std::string_view implementation = "SHA256_CTX";
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

// The interface verify.hpp uses, the same on every path:
//   context       what a key keeps per pad; its member h is the secret part
//   digest        SHA-256 of a whole message (a key longer than a block)
//   absorb_pad    context after one 64-byte pad block
//   chaining      one MAC's hash in progress: start it from a context,
//                 absorb_final the message, or absorb_final_digest another
//                 chaining's digest (HMAC's outer hash), then store_digest.
#if !defined(FISKIL_WEBHOOKS_OPENSSL_PROVIDER)

#if defined(__GNUC__) || defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#endif

// context is a SHA256_CTX that has absorbed the pad: its chaining value h is
// secret, its byte counts public.
using context = SHA256_CTX;

inline void digest(const void* data, std::size_t size, unsigned char (&out)[digest_size]) noexcept {
  context c;
  SHA256_Init(&c);
  SHA256_Update(&c, data, size);
  SHA256_Final(out, &c);
  wipe(&c, sizeof c);
}

inline void absorb_pad(context& c, const unsigned char (&pad)[block_size]) noexcept {
  SHA256_Init(&c);
  SHA256_Update(&c, pad, sizeof pad);
}

// chaining is the eight-word chaining value plus whatever the backend needs
// to run its block function on it (BoringSSL: SHA256_TransformBlocks;
// OpenSSL 3: SHA256_Update on whole blocks with num == 0). The per-delivery
// path works on these rather than on a whole SHA256_CTX, and absorb_final
// builds the padded tail itself: docs/design.md, "Verification".
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

#else  // FISKIL_WEBHOOKS_OPENSSL_PROVIDER

// context is the pad block itself (key XOR ipad, or XOR opad): secret.
struct context {
  unsigned char h[block_size];
};

// provider_hasher is this thread's SHA-256 context of the provider that
// EVP_MD_fetch picks for "SHA256", driven through the provider's digest
// functions (provider-digest(7)). Allocated on the thread's first hash,
// re-initialised in place for every hash after it, freed when the thread
// exits. Why not EVP per hash: docs/design.md, "Verification".
class provider_hasher {
 public:
  provider_hasher() noexcept {
    md_ = EVP_MD_fetch(nullptr, "SHA256", nullptr);  // holds the provider loaded
    if (md_ == nullptr) return;
    const OSSL_PROVIDER* provider = EVP_MD_get0_provider(md_);
    int no_cache = 0;
    const OSSL_ALGORITHM* algorithms = OSSL_PROVIDER_query_operation(provider, OSSL_OP_DIGEST, &no_cache);
    OSSL_FUNC_digest_newctx_fn* newctx = nullptr;
    for (const OSSL_ALGORITHM* a = algorithms; a != nullptr && a->algorithm_names != nullptr; ++a) {
      if (!is_fetched(a->algorithm_names)) continue;
      for (const OSSL_DISPATCH* f = a->implementation; f->function_id != 0; ++f) {
        switch (f->function_id) {
          case OSSL_FUNC_DIGEST_NEWCTX: newctx = OSSL_FUNC_digest_newctx(f); break;
          case OSSL_FUNC_DIGEST_INIT: init_ = OSSL_FUNC_digest_init(f); break;
          case OSSL_FUNC_DIGEST_UPDATE: update_ = OSSL_FUNC_digest_update(f); break;
          case OSSL_FUNC_DIGEST_FINAL: final_ = OSSL_FUNC_digest_final(f); break;
          case OSSL_FUNC_DIGEST_FREECTX: freectx_ = OSSL_FUNC_digest_freectx(f); break;
          default: break;
        }
      }
      break;
    }
    if (algorithms != nullptr) OSSL_PROVIDER_unquery_operation(provider, OSSL_OP_DIGEST, algorithms);
    if (newctx != nullptr && init_ != nullptr && update_ != nullptr && final_ != nullptr && freectx_ != nullptr)
      ctx_ = newctx(OSSL_PROVIDER_get0_provider_ctx(provider));
  }
  ~provider_hasher() {
    if (ctx_ != nullptr) freectx_(ctx_);
    EVP_MD_free(md_);
  }
  provider_hasher(const provider_hasher&) = delete;
  provider_hasher& operator=(const provider_hasher&) = delete;

  // hash writes SHA-256(a || b) to out. With last, it then re-initialises
  // the context, so that no state of a secret message stays in it (a MAC's
  // inner hash leaves that to the outer one). It aborts if OpenSSL fails.
  void hash(const void* a, std::size_t a_size, const void* b, std::size_t b_size,
            unsigned char (&out)[digest_size], bool last) noexcept {
    std::size_t size = 0;
    const bool ok = ctx_ != nullptr && init_(ctx_, nullptr) == 1 &&
                    (a_size == 0 || update_(ctx_, static_cast<const unsigned char*>(a), a_size) == 1) &&
                    (b_size == 0 || update_(ctx_, static_cast<const unsigned char*>(b), b_size) == 1) &&
                    final_(ctx_, out, &size, digest_size) == 1 && size == digest_size &&
                    (!last || init_(ctx_, nullptr) == 1);
    if (!ok) std::abort();
  }

  static provider_hasher& this_thread() noexcept {
    static thread_local provider_hasher hasher;
    return hasher;
  }

 private:
  // is_fetched: names (colon-separated, as a provider lists them) name the
  // digest EVP_MD_fetch returned.
  bool is_fetched(const char* names) const noexcept {
    char name[64];
    std::size_t n = 0;
    while (names[n] != '\0' && names[n] != ':' && n + 1 < sizeof name) {
      name[n] = names[n];
      ++n;
    }
    name[n] = '\0';
    return EVP_MD_is_a(md_, name) == 1;
  }

  EVP_MD* md_ = nullptr;
  void* ctx_ = nullptr;
  OSSL_FUNC_digest_init_fn* init_ = nullptr;
  OSSL_FUNC_digest_update_fn* update_ = nullptr;
  OSSL_FUNC_digest_final_fn* final_ = nullptr;
  OSSL_FUNC_digest_freectx_fn* freectx_ = nullptr;
};

inline void digest(const void* data, std::size_t size, unsigned char (&out)[digest_size]) noexcept {
  provider_hasher::this_thread().hash(data, size, nullptr, 0, out, true);
}

inline void absorb_pad(context& c, const unsigned char (&pad)[block_size]) noexcept {
  std::memcpy(c.h, pad, sizeof pad);
}

// chaining points to the pad block the hash starts from, and holds the
// digest once absorb_final or absorb_final_digest has run.
struct chaining {
  const unsigned char* pad;
  unsigned char digest[digest_size];
};
inline void start(chaining& s, const context& from) noexcept { s.pad = from.h; }

// absorb_final hashes the pad block, then data[0, size) (`absorbed` is the
// pad's block_size, as on the other paths). absorb_final_digest, which
// follows it in a MAC, hashes the outer pad and the inner digest, and
// leaves the thread's context re-initialised.
inline void absorb_final(chaining& s, [[maybe_unused]] std::uint64_t absorbed, const unsigned char* data,
                         std::size_t size) noexcept {
  provider_hasher::this_thread().hash(s.pad, block_size, data, size, s.digest, false);
}

inline void absorb_final_digest(chaining& s, const chaining& digest_of) noexcept {
  provider_hasher::this_thread().hash(s.pad, block_size, digest_of.digest, digest_size, s.digest, true);
}

inline void store_digest(const chaining& s, unsigned char* out) noexcept {
  std::memcpy(out, s.digest, digest_size);
}

#endif  // FISKIL_WEBHOOKS_OPENSSL_PROVIDER

// compare is CRYPTO_memcmp itself: zero when equal, and the caller turns it
// into a mask without branching.
inline int compare(const void* a, const void* b, std::size_t n) noexcept {
  return CRYPTO_memcmp(a, b, n);
}

}  // namespace fiskil::webhooks::detail::sha256
