// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
//
// Signing keys, keyrings, signature header parsing and verification.
#include <doctest/doctest.h>

#include <fiskil/webhooks.hpp>

#include <string>
#include <vector>

#include "support.hpp"

namespace fw = fiskil::webhooks;
using test_support::from_hex;

namespace {

// The provider guide's worked example: its sample payload, its sample
// secret, and the signature its Go snippet prints.
constexpr std::string_view guide_body =
    R"json({"publish_time":"2023-11-23T03:03:30.792Z","message_id":"9790112556309026","data":{"arrangementId":"4a726862-6b39-4cd5-92c0-3d20fe96a202","clientId":"2XbIYazvJeBwaJx1xCaFar64uVk","endUserId":"2YPr9YiWLNj3KZt9ycjbvy4bRx5","institutionId":"1"}})json";
constexpr std::string_view guide_secret =
    "jf+cnWPind3y0kYqJM4cPAC/8kNcwVXE8/fKs/Kz/SxXIkhVfvV8yh8dtEX9+K2PsmItKu5Jqqwy7cw2JQ+ozsSo2M9qmwpPxRMCREO+";
constexpr std::string_view guide_signature = "6YnYaA0i/bBWrmH2tzZNBBNGXqUpbrAxQudFvU2UtQ4=";

fw::signing_key key_of(std::string_view secret_b64) {
  fw::result<fw::signing_key> key = fw::signing_key::from_base64(secret_b64);
  REQUIRE(key.has_value());
  return *key;
}

fw::signing_key key_of_bytes(const std::vector<unsigned char>& bytes) {
  fw::result<fw::signing_key> key = fw::signing_key::from_bytes(bytes);
  REQUIRE(key.has_value());
  return *key;
}

std::string mac_hex(const fw::signing_key& key, std::string_view body) {
  unsigned char mac[fw::mac_size];
  fw::detail::compute_mac(key, body, mac);
  static constexpr char digits[] = "0123456789abcdef";
  std::string hex;
  for (unsigned char b : mac) {
    hex += digits[b >> 4];
    hex += digits[b & 15];
  }
  return hex;
}

std::string base64_of(const std::vector<unsigned char>& bytes) {
  std::string text(fw::detail::base64::encoded_size(bytes.size()), '?');
  fw::detail::base64::encode(bytes.data(), bytes.size(), text.data());
  return text;
}

}  // namespace

TEST_CASE("the provider guide's example verifies") {
  const fw::signing_key key = key_of(guide_secret);
  CHECK(fw::sign(key, guide_body).view() == guide_signature);
  CHECK(fw::verify(key, guide_body, guide_signature));
  // What the guide's openssl line really computes: the literal string
  // "secret.key" as the key. It is not the header value.
  const fw::signing_key literal = key_of_bytes({'s', 'e', 'c', 'r', 'e', 't', '.', 'k', 'e', 'y'});
  CHECK(fw::verify(literal, guide_body, guide_signature).error() == fw::errc::signature_mismatch);
}

TEST_CASE("RFC 4231 HMAC-SHA-256 test cases 1 to 7") {
  struct vector {
    std::vector<unsigned char> key;
    std::string data;
    std::string_view mac_hex;  // test case 5 is truncated to 128 bits
  };
  const std::vector<vector> vectors = {
      {std::vector<unsigned char>(20, 0x0b), "Hi There",
       "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
      {{'J', 'e', 'f', 'e'}, "what do ya want for nothing?",
       "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
      {std::vector<unsigned char>(20, 0xaa), std::string(50, '\xdd'),
       "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"},
      {from_hex("0102030405060708090a0b0c0d0e0f10111213141516171819"), std::string(50, '\xcd'),
       "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"},
      {std::vector<unsigned char>(20, 0x0c), "Test With Truncation", "a3b6167473100ee06e0c796c2955552b"},
      {std::vector<unsigned char>(131, 0xaa), "Test Using Larger Than Block-Size Key - Hash Key First",
       "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
      {std::vector<unsigned char>(131, 0xaa),
       "This is a test using a larger than block-size key and a larger than block-size data. The key "
       "needs to be hashed before being used by the HMAC algorithm.",
       "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"},
  };
  for (std::size_t i = 0; i < vectors.size(); ++i) {
    CAPTURE(i + 1);
    const fw::signing_key key = key_of_bytes(vectors[i].key);
    const std::string hex = mac_hex(key, vectors[i].data);
    CHECK(hex.substr(0, vectors[i].mac_hex.size()) == vectors[i].mac_hex);
    if (vectors[i].mac_hex.size() == 64) {
      // The same vector through the public API, as a Fiskil header.
      const std::string header = base64_of(from_hex(vectors[i].mac_hex));
      CHECK(fw::verify(key, vectors[i].data, header));
      CHECK(fw::sign(key, vectors[i].data).view() == header);
      // And the key given as a base64 secret.
      CHECK(fw::verify(key_of(base64_of(vectors[i].key)), vectors[i].data, header));
    }
  }
}

TEST_CASE("RFC 4231 and Wycheproof vectors from ../shared/testdata, when present") {
  const auto dir = test_support::shared_testdata_dir();
  if (dir.empty()) return;
  simdjson::dom::parser json;
  {
    const std::string text = test_support::read_file(dir / "rfc4231_hmac_sha256.json");
    simdjson::dom::element doc;
    REQUIRE(json.parse(text).get(doc) == simdjson::SUCCESS);
    int count = 0;
    for (simdjson::dom::element t : test_support::array_at(doc, "tests")) {
      const fw::signing_key key = key_of_bytes(from_hex(t["keyHex"].get_string().value_unsafe()));
      const auto data = from_hex(t["dataHex"].get_string().value_unsafe());
      const std::string_view expected = t["macHex"].get_string().value_unsafe();
      const std::string body(data.begin(), data.end());
      CHECK(mac_hex(key, body).substr(0, expected.size()) == expected);
      ++count;
    }
    CHECK(count == 7);
  }
  const std::string text = test_support::read_file(dir / "wycheproof" / "hmac_sha256_test.json");
  simdjson::dom::element doc;
  REQUIRE(json.parse(text).get(doc) == simdjson::SUCCESS);
  int valid = 0, invalid = 0;
  for (simdjson::dom::element group : test_support::array_at(doc, "testGroups")) {
    const std::int64_t tag_bits = group["tagSize"].get_int64().value_unsafe();
    for (simdjson::dom::element t : test_support::array_at(group, "tests")) {
      const std::int64_t id = t["tcId"].get_int64().value_unsafe();
      CAPTURE(id);
      const fw::signing_key key = key_of_bytes(from_hex(t["key"].get_string().value_unsafe()));
      const auto msg = from_hex(t["msg"].get_string().value_unsafe());
      const std::string body(msg.begin(), msg.end());
      const std::string_view tag = t["tag"].get_string().value_unsafe();
      const bool expect_valid = t["result"].get_string().value_unsafe() == "valid";
      const std::string header = base64_of(from_hex(tag));
      const std::error_code ec = fw::verify(key, body, header).error();
      if (tag_bits == 256) {
        CHECK((!ec) == expect_valid);
        if (!expect_valid) CHECK(ec == fw::errc::signature_mismatch);
      } else {
        // Truncated tags: right for the raw MAC, always refused as a header.
        CHECK((mac_hex(key, body).substr(0, tag.size()) == tag) == expect_valid);
        CHECK(ec == fw::errc::signature_wrong_length);
      }
      (expect_valid ? valid : invalid) += 1;
    }
  }
  CHECK(valid == 66);
  CHECK(invalid == 108);
}

TEST_CASE("every malformed signature header gets its own error") {
  const fw::signing_key key = key_of(guide_secret);
  const std::string good(guide_signature);
  const std::string body(guide_body);
  auto check = [&](const std::string& header, fw::errc expected) {
    CAPTURE(header);
    CHECK(fw::verify(key, body, header).error() == expected);
  };
  check("", fw::errc::signature_missing);
  check(" \t ", fw::errc::signature_missing);
  check(good.substr(0, 43), fw::errc::signature_padding_missing);
  check(good + "=", fw::errc::signature_padding_extra);
  check(good.substr(0, 20) + "=" + good.substr(20), fw::errc::signature_padding_misplaced);
  check(good.substr(0, 20) + " " + good.substr(21), fw::errc::signature_whitespace);
  check(good.substr(0, 20) + "\t" + good.substr(21), fw::errc::signature_whitespace);
  check(good.substr(0, 20) + "*" + good.substr(21), fw::errc::signature_invalid_character);
  check(good.substr(0, 20) + "\xc3\xa9" + good.substr(22), fw::errc::signature_invalid_character);
  std::string url_safe = good;
  for (char& c : url_safe) c = c == '/' ? '_' : c == '+' ? '-' : c;
  REQUIRE(url_safe != good);
  check(url_safe, fw::errc::signature_url_safe_alphabet);
  // 31 and 33 bytes, canonical and padded: the wrong MAC length.
  check(base64_of(std::vector<unsigned char>(31, 1)), fw::errc::signature_wrong_length);
  check(base64_of(std::vector<unsigned char>(33, 1)), fw::errc::signature_wrong_length);
  check(std::string(10000, 'A'), fw::errc::signature_wrong_length);
  check("sha256=" + good, fw::errc::signature_wrong_length);
  // The other three strings that lenient decoders map to the same MAC.
  std::string non_canonical = good;
  const std::string_view alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const std::size_t last = alphabet.find(good[42]);
  REQUIRE(last % 4 == 0);
  for (std::size_t low_bits = 1; low_bits < 4; ++low_bits) {
    non_canonical[42] = alphabet[last + low_bits];
    check(non_canonical, fw::errc::signature_non_canonical);
  }
  // Surrounding spaces and tabs are HTTP's optional whitespace.
  CHECK(fw::verify(key, body, " \t" + good + "\t "));
}

TEST_CASE("RFC 4231 TC1 malleability strings from ../shared/testdata, when present") {
  const auto dir = test_support::shared_testdata_dir();
  if (dir.empty()) return;
  const std::string text = test_support::read_file(dir / "rfc4648_base64.json");
  simdjson::dom::parser json;
  simdjson::dom::element doc;
  REQUIRE(json.parse(text).get(doc) == simdjson::SUCCESS);
  const simdjson::dom::element m = doc["signatureMalleability"].value_unsafe();
  const fw::signing_key key = key_of(m["keyBase64"].get_string().value_unsafe());
  const std::string_view data = m["dataAscii"].get_string().value_unsafe();
  CHECK(fw::verify(key, data, m["canonical"].get_string().value_unsafe()));
  for (simdjson::dom::element other : test_support::array_at(m, "nonCanonicalSameBytes"))
    CHECK(fw::verify(key, data, other.get_string().value_unsafe()).error() == fw::errc::signature_non_canonical);
  CHECK(fw::verify(key, data, m["unpadded"].get_string().value_unsafe()).error() == fw::errc::signature_padding_missing);
  CHECK(fw::verify(key, data, m["base64urlForm"].get_string().value_unsafe()).error() ==
        fw::errc::signature_url_safe_alphabet);
}

TEST_CASE("flipping any byte of the body or any character of the signature fails") {
  const fw::signing_key key = key_of(guide_secret);
  const std::string good(guide_signature);
  std::string body(guide_body);
  for (std::size_t i = 0; i < body.size(); ++i) {
    for (const unsigned char flip : {0x01, 0x20, 0x80}) {
      body[i] = static_cast<char>(body[i] ^ flip);
      CHECK(fw::verify(key, body, good).error() == fw::errc::signature_mismatch);
      body[i] = static_cast<char>(body[i] ^ flip);
    }
  }
  CHECK(fw::verify(key, body, good));
  // Whitespace and member order are signed too: no re-serialisation.
  CHECK(fw::verify(key, body + "\n", good).error() == fw::errc::signature_mismatch);
  CHECK(fw::verify(key, " " + body, good).error() == fw::errc::signature_mismatch);
  CHECK(fw::verify(key, body.substr(0, body.size() - 1), good).error() == fw::errc::signature_mismatch);
  CHECK(fw::verify(key, "", good).error() == fw::errc::signature_mismatch);

  const std::string_view alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string header = good;
  for (std::size_t i = 0; i < 43; ++i) {
    const char original = header[i];
    header[i] = alphabet[(alphabet.find(original) + 17) % 64];
    const std::error_code ec = fw::verify(key, body, header).error();
    CAPTURE(i);
    CHECK(ec == fw::error_kind::signature);
    CHECK(ec);
    header[i] = original;
  }
}

TEST_CASE("signing secrets are decoded strictly, with one error per problem") {
  auto refused = [](std::string_view secret) { return fw::signing_key::from_base64(secret).error(); };
  CHECK(refused("") == fw::errc::secret_empty);
  CHECK(refused(" \r\n") == fw::errc::secret_empty);
  CHECK(refused("c2Vj cmV0") == fw::errc::secret_whitespace);
  CHECK(refused("c2Vj-mV0") == fw::errc::secret_url_safe_alphabet);
  CHECK(refused("c2Vj*mV0") == fw::errc::secret_invalid_character);
  CHECK(refused("c2VjcmV0Lg") == fw::errc::secret_padding_missing);
  CHECK(refused("c2VjcmV0Lg===") == fw::errc::secret_padding_extra);
  CHECK(refused("c2Vj=mV0") == fw::errc::secret_padding_misplaced);
  CHECK(refused("c2VjcmV0L") == fw::errc::secret_impossible_length);
  CHECK(refused("c2VjcmV0Lh==") == fw::errc::secret_non_canonical);
  CHECK(refused(std::string(1372, 'A')) == fw::errc::secret_too_long);
  CHECK(fw::signing_key::from_bytes({}).error() == fw::errc::secret_empty);
  CHECK(fw::signing_key::from_bytes(std::vector<unsigned char>(1025, 1)).error() == fw::errc::secret_too_long);
  CHECK(fw::signing_key::from_bytes(std::vector<unsigned char>(1024, 1)).has_value());
  // 1368 characters decode to 1026 bytes: over the limit.
  CHECK(refused(std::string(1368, 'A')) == fw::errc::secret_too_long);
  CHECK(fw::signing_key::from_base64(std::string(1364, 'A') + "AA==").has_value());

  // Secrets read from files keep their newline; that is accepted.
  const fw::signing_key trimmed = key_of(std::string(guide_secret) + "\n");
  CHECK(fw::verify(trimmed, guide_body, guide_signature));
}

TEST_CASE("signing keys are small, trivially copyable values") {
  static_assert(std::is_trivially_copyable_v<fw::signing_key>);
  static_assert(!std::is_default_constructible_v<fw::signing_key>);
  static_assert(sizeof(fw::signing_key) <= 256);
  const fw::signing_key key = key_of(guide_secret);
  const fw::signing_key copy = key;
  CHECK(fw::verify(copy, guide_body, guide_signature));
}

TEST_CASE("keyrings accept any of their keys and say which one matched") {
  const fw::signing_key primary = key_of(guide_secret);
  const fw::signing_key rotated = key_of("Zmlza2lsLXdlYmhvb2tzLXJvdGF0aW9uLXRlc3Qta2V5LZgIkr5tOzZxGQ==");
  const std::string signed_by_rotated(fw::sign(rotated, guide_body).view());

  const fw::keyring ring{rotated, primary};
  CHECK(ring.size() == 2);
  CHECK(fw::verify(ring, guide_body, guide_signature));
  CHECK(fw::verify(ring, guide_body, signed_by_rotated));
  CHECK(*fw::verify(ring, guide_body, guide_signature) == 1);
  CHECK(*fw::verify(ring, guide_body, signed_by_rotated) == 0);

  const fw::keyring only_primary{primary};
  CHECK(fw::verify(only_primary, guide_body, signed_by_rotated).error() == fw::errc::signature_mismatch);
  CHECK(fw::verify(only_primary, guide_body, "!").error() == fw::errc::signature_invalid_character);

  // The same key twice: the first match is reported.
  const fw::keyring twice{primary, primary};
  CHECK(*fw::verify(twice, guide_body, guide_signature) == 0);

  fw::basic_keyring<2> small;
  CHECK(fw::verify(small, guide_body, guide_signature).error() == fw::errc::keyring_empty);
  CHECK(small.add(primary));
  CHECK(small.add(rotated));
  CHECK(small.add(rotated).error() == fw::errc::keyring_full);
  CHECK(small.size() == 2);
  CHECK(fw::verify(small, guide_body, guide_signature));
}
