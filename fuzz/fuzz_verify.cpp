// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
//
// fw::verify (with a key and with a keyring) and fw::sign on a random body and a
// random header. The input is one length byte L, then L bytes of header
// (fewer if the input ends), then the body.
//
// Properties:
//  - no header verifies a body under both fixture keys; one that verifies is
//    exactly sign(key, body), and a malformed header gets the same errc under
//    every key, the one decode_signature names;
//  - a keyring says which key matched, whatever the order, and an empty
//    keyring is refused;
//  - sign's MAC is the backend's one-shot HMAC() (an independent
//    implementation of RFC 2104), for the fixture key and for the header
//    bytes used as a key of 1 to 255 bytes (short keys, and long ones that
//    are hashed first);
//  - the authentic header verifies (with HTTP's optional whitespace around
//    it too), and stops verifying when one of its characters or one bit of
//    the body is changed, or the body is extended or truncated.
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstring>
#include <string>

#include "fuzz_support.hpp"

namespace {

namespace fw = fiskil::webhooks;

std::string reference_header(std::string_view key, std::string_view body) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_size = 0;
  static const unsigned char empty = 0;
  const unsigned char* data = body.empty() ? &empty : reinterpret_cast<const unsigned char*>(body.data());
  FUZZ_CHECK(HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), data, body.size(), mac, &mac_size) !=
             nullptr);
  FUZZ_CHECK(mac_size == fw::mac_size);
  return fuzz::base64_encode({reinterpret_cast<const char*>(mac), mac_size});
}

const std::string& raw_key_a() {
  static const std::string bytes = *fuzz::naive_base64_decode(fuzz::secret_a);
  return bytes;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input = fuzz::as_text(data, size);
  if (input.empty()) return 0;
  const std::size_t header_size = std::min<std::size_t>(static_cast<unsigned char>(input[0]), input.size() - 1);
  const std::string_view header = input.substr(1, header_size);
  const std::string_view body = input.substr(1 + header_size);
  const fw::signing_key& a = fuzz::key_a();
  const fw::signing_key& b = fuzz::key_b();

  // The random header.
  const std::error_code under_a = fw::verify(a, body, header).error();
  const std::error_code under_b = fw::verify(b, body, header).error();
  FUZZ_CHECK(under_a || under_b);  // never both authentic
  unsigned char mac[fw::mac_size];
  const std::error_code malformed = fw::detail::decode_signature(header, mac);
  if (malformed) {
    FUZZ_CHECK(under_a == malformed && under_b == malformed);
  } else {
    FUZZ_CHECK(!under_a || under_a == fw::errc::signature_mismatch);
    FUZZ_CHECK(!under_b || under_b == fw::errc::signature_mismatch);
  }
  if (!under_a) FUZZ_CHECK(fuzz::trim(header, " \t") == fw::sign(a, body).view());
  if (!under_b) FUZZ_CHECK(fuzz::trim(header, " \t") == fw::sign(b, body).view());
  const fw::keyring ab{a, b}, ba{b, a}, only_a{a};
  const fw::result<std::size_t> in_ab = fw::verify(ab, body, header);
  const fw::result<std::size_t> in_ba = fw::verify(ba, body, header);
  FUZZ_CHECK(in_ab.has_value() == (!under_a || !under_b));
  FUZZ_CHECK(in_ba.has_value() == in_ab.has_value());
  if (in_ab) {
    FUZZ_CHECK(*in_ab == (!under_a ? 0u : 1u));
    FUZZ_CHECK(*in_ba == 1u - *in_ab);
  } else {
    FUZZ_CHECK(in_ab.error() == (malformed ? malformed : std::error_code{fw::errc::signature_mismatch}));
  }
  FUZZ_CHECK(fw::verify(only_a, body, header).error() == under_a);
  FUZZ_CHECK(fw::verify(fw::keyring{}, body, header).error() == fw::errc::keyring_empty);

  // sign against an independent HMAC.
  const fw::signature signed_a = fw::sign(a, body);
  const std::string expected = reference_header(raw_key_a(), body);
  FUZZ_CHECK(signed_a.view() == expected);
  if (!header.empty()) {
    const fw::result<fw::signing_key> c =
        fw::signing_key::from_bytes({reinterpret_cast<const unsigned char*>(header.data()), header.size()});
    FUZZ_CHECK(c.has_value());
    FUZZ_CHECK(fw::sign(*c, body).view() == reference_header(header, body));
  }

  // The authentic header, then small changes to it and to the body.
  FUZZ_CHECK(fw::verify(a, body, expected));
  FUZZ_CHECK(fw::verify(a, body, " \t" + expected + "\t "));
  FUZZ_CHECK(fw::verify(b, body, expected).error() == fw::errc::signature_mismatch);
  const std::size_t pick = fuzz::mix(input);
  {
    std::string changed = expected;
    const std::size_t at = pick % changed.size();
    static constexpr std::string_view alphabet =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const std::size_t was = alphabet.find(changed[at]);
    changed[at] = alphabet[(was == std::string_view::npos ? 0 : was + 1 + (pick >> 8) % 63) % 64];
    FUZZ_CHECK(changed != expected);
    FUZZ_CHECK(!fw::verify(a, body, changed));
  }
  if (!body.empty()) {
    std::string flipped(body);
    flipped[pick % flipped.size()] = static_cast<char>(flipped[pick % flipped.size()] ^ (1u << ((pick >> 16) % 8)));
    FUZZ_CHECK(fw::verify(a, flipped, expected).error() == fw::errc::signature_mismatch);
    FUZZ_CHECK(fw::verify(a, body.substr(0, body.size() - 1), expected).error() == fw::errc::signature_mismatch);
  }
  FUZZ_CHECK(fw::verify(a, std::string(body) + '\n', expected).error() == fw::errc::signature_mismatch);
  return 0;
}
