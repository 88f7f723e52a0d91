// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
//
// The hash code under the MAC (detail/sha256.hpp): that the build took the
// code path it asked for (meson passes FW_TEST_EXPECTED_SHA256: BoringSSL's
// block function, OpenSSL's SHA256_CTX, or, with OpenSSL's deprecated API
// hidden, the provider's digest functions), that the path hashes correctly
// across every block boundary, and when it allocates.
#include <doctest/doctest.h>

#include <fiskil/webhooks.hpp>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "allocation_counting.hpp"

#if !defined(FW_TEST_EXPECTED_SHA256)
#error "build unit-sha256.cpp with FW_TEST_EXPECTED_SHA256 (tests/meson.build sets it)"
#endif

namespace fw = fiskil::webhooks;
namespace sha256 = fw::detail::sha256;

namespace {

std::string hex(const unsigned char* bytes, std::size_t size) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string text;
  for (std::size_t i = 0; i < size; ++i) {
    text += digits[bytes[i] >> 4];
    text += digits[bytes[i] & 15];
  }
  return text;
}

std::string digest_hex(std::string_view message) {
  unsigned char out[sha256::digest_size];
  sha256::digest(message.data(), message.size(), out);
  return hex(out, sizeof out);
}

// reference_signature is base64(HMAC-SHA256) by the backend's one-shot
// HMAC(), which shares none of the library's pad precomputation or padding.
std::string reference_signature(const std::vector<unsigned char>& key, std::string_view body) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  REQUIRE(HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
               reinterpret_cast<const unsigned char*>(body.data()), body.size(), mac, &size) != nullptr);
  REQUIRE(size == fw::mac_size);
  std::string text(fw::signature_size, '?');
  fw::detail::base64::encode(mac, size, text.data());
  return text;
}

std::vector<unsigned char> key_bytes(std::size_t size) {
  std::vector<unsigned char> key(size);
  for (std::size_t i = 0; i < size; ++i) key[i] = static_cast<unsigned char>(i * 7 + 3);
  return key;
}

}  // namespace

TEST_CASE("the MAC takes the code path this build configured") {
  CHECK(sha256::implementation == std::string_view{FW_TEST_EXPECTED_SHA256});
#if defined(FISKIL_WEBHOOKS_CRYPTO_BORINGSSL)
  CHECK(sha256::backend_name == "BoringSSL");
#elif defined(FISKIL_WEBHOOKS_OPENSSL_PROVIDER)
  CHECK(sha256::backend_name == "OpenSSL 3 (no deprecated API)");
#else
  CHECK(sha256::backend_name == "OpenSSL 3");
#endif
}

TEST_CASE("SHA-256 of the FIPS 180-2 examples") {
  CHECK(digest_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(digest_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(digest_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  CHECK(digest_hex(std::string(1000000, 'a')) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST_CASE("HMAC equals the backend's one-shot HMAC() for every body length around the block boundaries") {
  // Key sizes: short, one digest, exactly a block, just over (hashed first),
  // and the longest accepted.
  for (const std::size_t key_size : {1u, 32u, 64u, 65u, 1024u}) {
    const std::vector<unsigned char> raw = key_bytes(key_size);
    const fw::result<fw::signing_key> key = fw::signing_key::from_bytes(raw);
    REQUIRE(key.has_value());
    std::string body;
    for (std::size_t size = 0; size <= 200; ++size) {
      CAPTURE(key_size);
      CAPTURE(size);
      const std::string expected = reference_signature(raw, body);
      CHECK(fw::sign(*key, body).view() == expected);
      CHECK(fw::verify(*key, body, expected));
      body += static_cast<char>('a' + size % 26);
    }
  }
}

TEST_CASE("every thread computes MACs, and none allocates after its thread's first") {
  const std::vector<unsigned char> raw = key_bytes(40);
  const fw::signing_key key = *fw::signing_key::from_bytes(raw);
  const std::string body = R"({"publish_time":"2026-11-20T09:15:00Z","message_id":"1","data":{}})";
  const std::string expected = reference_signature(raw, body);

  struct seen {
    allocation_counting::counts before, after_first, after_rest;
    bool all_equal = true;
  };
  // Several short-lived threads: each builds (provider path) and frees its own context.
  std::vector<seen> threads(4);
  for (seen& s : threads) {
    std::thread([&] {
      s.before = allocation_counting::snapshot();
      s.all_equal = fw::sign(key, body).view() == expected;
      s.after_first = allocation_counting::snapshot();
      for (int i = 0; i < 100; ++i) s.all_equal = s.all_equal && bool(fw::verify(key, body, expected));
      s.after_rest = allocation_counting::snapshot();
    }).join();
  }
  for (const seen& s : threads) {
    CHECK(s.all_equal);
    CHECK(s.after_rest.news == s.after_first.news);
    CHECK(s.after_rest.mallocs == s.after_first.mallocs);
    CHECK(s.after_first.news == s.before.news);
    if (sha256::implementation == "provider digest") {
#if !defined(FW_TEST_SANITIZED)
      // The thread's provider context, made by OpenSSL's malloc.
      CHECK(s.after_first.mallocs > s.before.mallocs);
#endif
    } else {
      CHECK(s.after_first.mallocs == s.before.mallocs);
    }
  }
}
