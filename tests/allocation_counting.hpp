// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
//
// Counting every heap allocation, for the tests that prove there are none:
// global operator new/delete are replaced, and (outside sanitizer builds,
// whose runtimes own malloc) malloc and friends are interposed too, so that
// allocations inside simdjson and the crypto library are counted as well.
//
// Include it from exactly one source file of a test executable: it defines
// the replacement functions. bench/ includes it too, with
// ALLOCATION_COUNTING_ONE_THREAD defined: a benchmark allocates from one
// thread, so each count is a plain load and store on a relaxed atomic rather
// than a locked read-modify-write, which would slow down the rows that
// allocate a lot (the hand-written baseline).
#pragma once

#include <atomic>
#include <cstdlib>
#include <new>

#include "sanitizers.hpp"

namespace {
std::atomic<long> new_calls{0};
std::atomic<long> malloc_calls{0};
inline void count_allocation(std::atomic<long>& counter) noexcept {
#if defined(ALLOCATION_COUNTING_ONE_THREAD)
  counter.store(counter.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
#else
  counter.fetch_add(1, std::memory_order_relaxed);
#endif
}
}  // namespace

#if !defined(FW_TEST_SANITIZED)
extern "C" {
void* __libc_malloc(std::size_t);
void* __libc_calloc(std::size_t, std::size_t);
void* __libc_realloc(void*, std::size_t);
void* __libc_memalign(std::size_t, std::size_t);
void __libc_free(void*);

void* malloc(std::size_t size) {
  count_allocation(malloc_calls);
  return __libc_malloc(size);
}
void* calloc(std::size_t count, std::size_t size) {
  count_allocation(malloc_calls);
  return __libc_calloc(count, size);
}
void* realloc(void* p, std::size_t size) {
  count_allocation(malloc_calls);
  return __libc_realloc(p, size);
}
void* aligned_alloc(std::size_t alignment, std::size_t size) {
  count_allocation(malloc_calls);
  return __libc_memalign(alignment, size);
}
void* memalign(std::size_t alignment, std::size_t size) {
  count_allocation(malloc_calls);
  return __libc_memalign(alignment, size);
}
int posix_memalign(void** out, std::size_t alignment, std::size_t size) {
  count_allocation(malloc_calls);
  *out = __libc_memalign(alignment, size);
  return *out != nullptr ? 0 : 12 /* ENOMEM */;
}
void free(void* p) { __libc_free(p); }
}
#endif

void* operator new(std::size_t size) {
  count_allocation(new_calls);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  std::abort();
}
void* operator new[](std::size_t size) { return operator new(size); }
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  count_allocation(new_calls);
  return std::malloc(size == 0 ? 1 : size);
}
void* operator new[](std::size_t size, const std::nothrow_t& tag) noexcept { return operator new(size, tag); }
void* operator new(std::size_t size, std::align_val_t align) {
  count_allocation(new_calls);
  const std::size_t a = static_cast<std::size_t>(align);
  if (void* p = std::aligned_alloc(a, (size + a - 1) / a * a)) return p;
  std::abort();
}
void* operator new[](std::size_t size, std::align_val_t align) { return operator new(size, align); }
void* operator new(std::size_t size, std::align_val_t align, const std::nothrow_t&) noexcept {
  count_allocation(new_calls);
  const std::size_t a = static_cast<std::size_t>(align);
  return std::aligned_alloc(a, (size + a - 1) / a * a);
}
void* operator new[](std::size_t size, std::align_val_t align, const std::nothrow_t& tag) noexcept {
  return operator new(size, align, tag);
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }

namespace allocation_counting {

struct counts {
  long news;
  long mallocs;
};
inline counts snapshot() { return {new_calls.load(), malloc_calls.load()}; }

}  // namespace allocation_counting
