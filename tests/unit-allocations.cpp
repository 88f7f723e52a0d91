// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
//
// Zero heap allocations in steady state, proven by counting them: global
// operator new/delete are replaced, and (outside sanitizer builds, whose
// runtimes own malloc) malloc and friends are interposed too, so that
// allocations inside simdjson and the crypto library are counted as well.
#include <doctest/doctest.h>

#include <fiskil/webhooks.hpp>

#include <atomic>
#include <cstdlib>
#include <new>

#include "support.hpp"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define FW_TEST_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || __has_feature(memory_sanitizer)
#define FW_TEST_SANITIZED 1
#endif
#endif

namespace {
std::atomic<long> new_calls{0};
std::atomic<long> malloc_calls{0};
}  // namespace

#if !defined(FW_TEST_SANITIZED)
extern "C" {
void* __libc_malloc(std::size_t);
void* __libc_calloc(std::size_t, std::size_t);
void* __libc_realloc(void*, std::size_t);
void* __libc_memalign(std::size_t, std::size_t);
void __libc_free(void*);

void* malloc(std::size_t size) {
  malloc_calls.fetch_add(1, std::memory_order_relaxed);
  return __libc_malloc(size);
}
void* calloc(std::size_t count, std::size_t size) {
  malloc_calls.fetch_add(1, std::memory_order_relaxed);
  return __libc_calloc(count, size);
}
void* realloc(void* p, std::size_t size) {
  malloc_calls.fetch_add(1, std::memory_order_relaxed);
  return __libc_realloc(p, size);
}
void* aligned_alloc(std::size_t alignment, std::size_t size) {
  malloc_calls.fetch_add(1, std::memory_order_relaxed);
  return __libc_memalign(alignment, size);
}
void* memalign(std::size_t alignment, std::size_t size) {
  malloc_calls.fetch_add(1, std::memory_order_relaxed);
  return __libc_memalign(alignment, size);
}
int posix_memalign(void** out, std::size_t alignment, std::size_t size) {
  malloc_calls.fetch_add(1, std::memory_order_relaxed);
  *out = __libc_memalign(alignment, size);
  return *out != nullptr ? 0 : 12 /* ENOMEM */;
}
void free(void* p) { __libc_free(p); }
}
#endif

void* operator new(std::size_t size) {
  new_calls.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  std::abort();
}
void* operator new[](std::size_t size) { return operator new(size); }
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  new_calls.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(size == 0 ? 1 : size);
}
void* operator new[](std::size_t size, const std::nothrow_t& tag) noexcept { return operator new(size, tag); }
void* operator new(std::size_t size, std::align_val_t align) {
  new_calls.fetch_add(1, std::memory_order_relaxed);
  const std::size_t a = static_cast<std::size_t>(align);
  if (void* p = std::aligned_alloc(a, (size + a - 1) / a * a)) return p;
  std::abort();
}
void* operator new[](std::size_t size, std::align_val_t align) { return operator new(size, align); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }

namespace fw = fiskil::webhooks;

namespace {

struct counts {
  long news;
  long mallocs;
};
counts snapshot() { return {new_calls.load(), malloc_calls.load()}; }

}  // namespace

TEST_CASE("the counters see allocations (so a zero below means something)") {
  // Through volatile globals, so the compiler may not elide the pairs.
  static int* volatile escaped_new;
  static void* volatile escaped_malloc;
  const counts before = snapshot();
  escaped_new = new int(1);
  delete escaped_new;
  escaped_malloc = std::malloc(16);
  std::free(escaped_malloc);
  const counts after = snapshot();
  CHECK(after.news - before.news == 1);
#if !defined(FW_TEST_SANITIZED)
  CHECK(after.mallocs - before.mallocs >= 2);
#endif
  // A fresh parser reserves its storage on first use: counted.
  fw::parser fresh;
  const counts reserve_before = snapshot();
  CHECK(fresh.parse(R"({"publish_time":"2026-01-01T00:00:00Z","message_id":"m","data":{}})").has_value());
  CHECK(snapshot().news > reserve_before.news);
}

TEST_CASE("1000 rounds of verify + parse + dispatch over every sample allocate nothing") {
  std::vector<test_support::sample> samples = test_support::load_samples(test_support::fixtures_dir());
  const auto shared = test_support::load_samples(test_support::shared_corpus_dir());
  REQUIRE(samples.size() >= 29);
  const fw::keyring ring{*fw::signing_key::from_base64(samples.front().secret),
                         *fw::signing_key::from_base64(
                             test_support::read_file(test_support::fixtures_dir() / "secret_rotated.b64"))};
  fw::keyring shared_ring;
  if (!shared.empty()) {
    CHECK_FALSE(shared_ring.add(*fw::signing_key::from_base64(shared.front().secret)));
    CHECK_FALSE(shared_ring.add(*fw::signing_key::from_base64(
        test_support::read_file(test_support::shared_corpus_dir() / "secret_rotated.b64"))));
  }
  std::vector<std::string> tampered, trailing;
  for (const auto& s : samples) {
    tampered.push_back(s.body + " ");
    trailing.push_back(s.body + " x");
  }

  fw::parser p;
  long accepted = 0, refused = 0, handled = 0;
  std::size_t ids = 0;
  auto round = [&] {
    auto one = [&](const fw::keyring& keys, const test_support::sample& s) {
      fw::result<fw::event> ev = p.verify_and_parse(keys, s.body, s["signature"]);
      if (!ev) return;
      ++accepted;
      handled += fw::dispatch(
          *ev, [&](fw::with_account_ids auto const& e) { for (std::string_view id : e.account_ids) ids += id.size(); },
          [&](fw::consent_event auto const& e) { ids += e.consent_id.size(); },
          [&](const auto& e) { ids += e.message_id.size(); });
    };
    for (const auto& s : samples) one(ring, s);
    for (const auto& s : shared) one(shared_ring, s);
    for (std::size_t i = 0; i < samples.size(); ++i) {
      // Error paths allocate nothing either.
      refused += !p.verify_and_parse(ring, tampered[i], samples[i]["signature"]).has_value();
      refused += !p.parse("{\"publish_time\":1}").has_value();
      refused += !p.parse(trailing[i]).has_value();
      refused += fw::verify(ring, samples[i].body, "not base64!") ? 1 : 0;
    }
  };
  round();  // warm-up: reserves the parser's storage, sets up simdjson's kernels
  accepted = refused = handled = 0;

  const counts before = snapshot();
  for (int i = 0; i < 1000; ++i) round();
  const counts after = snapshot();

  CHECK(after.news - before.news == 0);
  CHECK(after.mallocs - before.mallocs == 0);
  const long per_round = static_cast<long>(samples.size() + shared.size());
  CHECK(accepted == 1000 * per_round);
  CHECK(handled == accepted);
  CHECK(refused == 1000 * static_cast<long>(samples.size()) * 4);
  CHECK(ids > 0);
}
