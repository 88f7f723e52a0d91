// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

// With FISKIL_WEBHOOKS_CT_VALGRIND defined, secret bytes are marked as
// undefined for valgrind's memcheck, which then reports every branch and
// memory index that depends on them ("conditional jump depends on
// uninitialised value"). Only verdicts are declassified. This is how
// BoringSSL and libsodium check that code is constant time; tests/ct runs it.
#if defined(FISKIL_WEBHOOKS_CT_VALGRIND)
#include <valgrind/memcheck.h>
#endif

namespace fiskil::webhooks::detail::ct {

// mark_secret tells the constant-time checker that [p, p+n) is secret.
inline void mark_secret([[maybe_unused]] const void* p, [[maybe_unused]] std::size_t n) noexcept {
#if defined(FISKIL_WEBHOOKS_CT_VALGRIND)
  (void)VALGRIND_MAKE_MEM_UNDEFINED(p, n);
#endif
}

// declassify makes [p, p+n) public again. Call it only on a verdict or a
// length that the protocol makes public anyway.
inline void declassify([[maybe_unused]] const void* p, [[maybe_unused]] std::size_t n) noexcept {
#if defined(FISKIL_WEBHOOKS_CT_VALGRIND)
  (void)VALGRIND_MAKE_MEM_DEFINED(p, n);
#endif
}

template <class T>
inline T declassified(T value) noexcept {
  declassify(&value, sizeof value);
  return value;
}

// value_barrier hides a value from the optimiser so that mask arithmetic is
// not turned back into a branch (the technique of BoringSSL's
// value_barrier_w).
inline std::uint32_t value_barrier(std::uint32_t x) noexcept {
#if defined(__GNUC__) || defined(__clang__)
  __asm__("" : "+r"(x) : /* no inputs */);
#endif
  return x;
}

// Masks are all-ones (true) or all-zeros (false).
inline std::uint32_t mask_if_zero(std::uint32_t x) noexcept {
  // (x | -x) has its top bit set exactly when x != 0.
  return value_barrier(((x | (0u - x)) >> 31) - 1u);
}

inline std::uint32_t mask_if_nonzero(std::uint32_t x) noexcept { return ~mask_if_zero(x); }

inline std::uint32_t mask_if_equal(std::uint32_t a, std::uint32_t b) noexcept {
  return mask_if_zero(a ^ b);
}

// mask_if_in_range(x, lo, hi) for 0 <= x, lo, hi < 2^31.
inline std::uint32_t mask_if_in_range(std::uint32_t x, std::uint32_t lo, std::uint32_t hi) noexcept {
  // Either difference goes negative (top bit set) exactly when x is outside.
  return value_barrier((((x - lo) | (hi - x)) >> 31) - 1u);
}

// mask_if_different(a, b, n) is all-ones when a[0, n) and b[0, n) differ,
// in time that depends only on n: the bytes are XORed and ORed together a
// word at a time, with no early exit and no branch on their values (what
// CRYPTO_memcmp does a byte at a time, inlined here to save the call).
inline std::uint32_t mask_if_different(const void* a, const void* b, std::size_t n) noexcept {
  const unsigned char* x = static_cast<const unsigned char*>(a);
  const unsigned char* y = static_cast<const unsigned char*>(b);
  std::uint64_t acc = 0;
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    std::uint64_t u, v;
    std::memcpy(&u, x + i, 8);
    std::memcpy(&v, y + i, 8);
    acc |= u ^ v;
  }
  for (; i < n; ++i) acc |= static_cast<std::uint64_t>(x[i] ^ y[i]);
  return mask_if_nonzero(static_cast<std::uint32_t>(acc) | static_cast<std::uint32_t>(acc >> 32));
}

inline std::uint32_t select(std::uint32_t mask, std::uint32_t if_true, std::uint32_t if_false) noexcept {
  return (mask & if_true) | (~mask & if_false);
}

}  // namespace fiskil::webhooks::detail::ct
