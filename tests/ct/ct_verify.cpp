// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
//
// Constant-time validation under valgrind memcheck, in the style of
// BoringSSL's and libsodium's: built with FISKIL_WEBHOOKS_CT_VALGRIND, the
// library marks key material as undefined ("secret") where it is born, and
// memcheck then reports every conditional jump, memory index or system call
// that depends on it ("Conditional jump or move depends on uninitialised
// value(s)"). Only verdicts are declassified. Run as
//   valgrind --error-exitcode=1 tests/ct/ct-verify
// (meson test --suite constant-time does). This program also marks the
// secret text itself before decoding it, and checks that the marks really
// reach the key states and the MAC: without memcheck, or with the marking
// compiled out, it fails rather than pass vacuously.
//
// --leaky-compare and --leaky-index run a deliberately leaky use of the MAC
// (memcmp, a table lookup) that memcheck must report: the suite's own proof
// that it catches a leak.
#include <fiskil/webhooks.hpp>

#include <valgrind/memcheck.h>
#include <valgrind/valgrind.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#if !defined(FISKIL_WEBHOOKS_CT_VALGRIND)
#error "build ct_verify.cpp with FISKIL_WEBHOOKS_CT_VALGRIND defined (meson -Dct_valgrind=true)"
#endif

namespace fw = fiskil::webhooks;
namespace ct = fw::detail::ct;

namespace {

int checks = 0, failures = 0;

// CHECK's condition must be public (defined): it is the verdict under test.
#define CHECK(condition)                                                                  \
  do {                                                                                    \
    ++checks;                                                                             \
    if (!(condition)) {                                                                   \
      ++failures;                                                                         \
      std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #condition); \
    }                                                                                     \
  } while (false)

// all_undefined: memcheck holds every bit of [p, p+n) undefined (secret).
// VALGRIND_GET_VBITS reads the shadow bits without reporting anything.
bool all_undefined(const void* p, std::size_t n) {
  std::vector<unsigned char> vbits(n);
  if (VALGRIND_GET_VBITS(p, vbits.data(), n) != 1) return false;
  for (const unsigned char v : vbits) {
    if (v != 0xFF) return false;
  }
  return true;
}

// secret_text copies text into a buffer marked secret, as a secret read
// from a file or the environment would be if the caller marked it.
std::string secret_text(std::string_view text) {
  std::string copy(text);
  ct::mark_secret(copy.data(), copy.size());
  return copy;
}

fw::signing_key key_from(std::string_view secret_b64) {
  const std::string secret = secret_text(secret_b64);
  fw::result<fw::signing_key> key = fw::signing_key::from_base64(secret);
  CHECK(key.has_value());
  if (!key) std::abort();
  return *key;
}

const fw::detail::sha256::context& inner(const fw::signing_key& key) { return fw::detail::key_access::inner(key); }

}  // namespace

int main(int argc, char** argv) {
  if (!RUNNING_ON_VALGRIND) {
    std::fprintf(stderr, "ct-verify: not running under valgrind; run it as valgrind --error-exitcode=1 %s\n", argv[0]);
    return 1;
  }
  const std::string mode = argc > 1 ? argv[1] : "";

  // Marking works at all (memcheck, not another tool).
  {
    unsigned char probe[4] = {1, 2, 3, 4};
    ct::mark_secret(probe, sizeof probe);
    if (!all_undefined(probe, sizeof probe)) {
      std::fprintf(stderr, "ct-verify: valgrind's tool is not memcheck; run with --tool=memcheck\n");
      return 1;
    }
    ct::declassify(probe, sizeof probe);
  }

  const std::string body =
      R"({"publish_time":"2026-11-20T09:15:00.123Z","message_id":"7000000000000001",)"
      R"("data":{"event":"consent.revoked","consent_id":"c0a5e5e0-0000-4000-8000-000000000003"}})";
  const fw::signing_key key = key_from("IhLQ/oys9Bku+gmxsTXozVr6eFFLzu8AI2iUcZyljc96th0cvnMzBPYwr50CNvQu\n");
  const fw::signing_key rotated = key_from("Zmlza2lsLXdlYmhvb2tzLXJvdGF0aW9uLXRlc3Qta2V5LZgIkr5tOzZxGQ==");
  // A secret of 96 bytes (hashed first, RFC 2104) and one of 2 bytes with padding.
  const fw::signing_key long_key = key_from(std::string(128, 'A').replace(0, 4, "QUJD"));
  const fw::signing_key short_key = key_from("YWI=");

  // The key states are secret: the library marked them (or the marks on
  // the text reached them), so the checks below are not vacuous.
  CHECK(all_undefined(inner(key).h, sizeof inner(key).h));
  CHECK(all_undefined(inner(long_key).h, sizeof inner(long_key).h));
  {
    // from_bytes on unmarked bytes still yields secret states.
    const unsigned char raw[] = {'k', 'e', 'y'};
    const fw::result<fw::signing_key> plain = fw::signing_key::from_bytes(raw);
    CHECK(plain.has_value());
    CHECK(all_undefined(inner(*plain).h, sizeof inner(*plain).h));
    CHECK(all_undefined(fw::detail::key_access::outer(*plain).h, sizeof fw::detail::key_access::outer(*plain).h));
  }
  unsigned char mac[fw::mac_size];
  fw::detail::compute_mac(key, body, mac);
  CHECK(all_undefined(mac, sizeof mac));

  if (mode == "--leaky-compare") {
    // What a hand-written verifier does: memcmp on the MAC. Must be reported.
    unsigned char expected[fw::mac_size] = {};
    if (std::memcmp(mac, expected, sizeof mac) == 0) {
      std::puts("leaky compare: equal");
    } else {
      std::puts("leaky compare: differs");
    }
    return 0;
  }
  if (mode == "--leaky-index") {
    // A table indexed by a secret byte (a cache-timing leak). Must be reported.
    static const unsigned char table[256] = {1};
    std::printf("leaky index: %d\n", table[mac[0]]);
    return 0;
  }

  // The header is public: sign's output is declassified (it is sent).
  const std::string good(fw::sign(key, body).view());
  CHECK(fw::verify(key, body, good));
  CHECK(fw::verify(key, body, " " + good + "\t"));
  for (const fw::signing_key* k : {&long_key, &short_key, &rotated}) {
    const std::string header(fw::sign(*k, body).view());
    CHECK(fw::verify(*k, body, header));
    CHECK(fw::verify(key, body, header).error() == fw::errc::signature_mismatch);
  }

  // Non-matching signatures: differing in the first byte, in the last, in
  // the middle, and a matching prefix of every length (the case a
  // short-circuit compare would leak).
  for (std::size_t i = 0; i + 1 < good.size(); ++i) {
    std::string forged = good;
    forged[i] = forged[i] == 'A' ? 'Q' : 'A';  // 'A'/'Q' keep the last character canonical
    CHECK(fw::verify(key, body, forged).error() == fw::errc::signature_mismatch);
  }
  CHECK(fw::verify(key, body, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=").error() == fw::errc::signature_mismatch);
  CHECK(fw::verify(key, body + " ", good).error() == fw::errc::signature_mismatch);
  CHECK(fw::verify(key, "", good).error() == fw::errc::signature_mismatch);
  CHECK(fw::verify(key, std::string(1000, 'x'), good).error() == fw::errc::signature_mismatch);

  // Wrong-length and malformed signatures: refused before any MAC.
  CHECK(fw::verify(key, body, "").error() == fw::errc::signature_missing);
  CHECK(fw::verify(key, body, good.substr(0, 43)).error() == fw::errc::signature_padding_missing);
  CHECK(fw::verify(key, body, good + "=").error() == fw::errc::signature_padding_extra);
  CHECK(fw::verify(key, body, "Zg==").error() == fw::errc::signature_wrong_length);
  CHECK(fw::verify(key, body, good + good).error() == fw::errc::signature_wrong_length);

  // Keyrings: every key is tried; the index of the match is declassified.
  const fw::keyring ring{rotated, key, long_key};
  const fw::result<std::size_t> index = fw::verify(ring, body, good);
  CHECK(index.has_value() && *index == 1);
  CHECK(fw::verify(ring, body, fw::sign(rotated, body).view()).value() == 0);
  CHECK(fw::verify(ring, body, fw::sign(long_key, body).view()).value() == 2);
  CHECK(fw::verify(ring, body, fw::sign(short_key, body).view()).error() == fw::errc::signature_mismatch);
  CHECK(fw::verify(fw::keyring{short_key}, body, good).error() == fw::errc::signature_mismatch);

  // The gateway's path: verify, then parse the (public) authentic body.
  fw::parser parser;
  const fw::result<fw::verified_event> ev = parser.verify_and_parse(ring, body, good);
  CHECK(ev.has_value() && std::holds_alternative<fw::consent_revoked>(ev->event));
  CHECK((ev.has_value() && ev->key_index == 1));
  CHECK(parser.verify_and_parse(ring, body, fw::sign(short_key, body).view()).error() == fw::errc::signature_mismatch);

  // Secret decoding: refusals of well-formed-looking secrets are verdicts.
  {
    const std::string non_canonical = secret_text("YWJ=");
    CHECK(fw::signing_key::from_base64(non_canonical).error() == fw::errc::secret_non_canonical);
    const std::string with_blanks = secret_text("\t YWI=\r\n");
    CHECK(fw::signing_key::from_base64(with_blanks).has_value());
  }

  std::printf("ct-verify: %d checks, %d failed (secret-dependent behaviour is reported by memcheck)\n", checks,
              failures);
  return failures == 0 ? 0 : 1;
}
