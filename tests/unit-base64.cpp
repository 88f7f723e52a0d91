// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
//
// The strict, constant-time base64 core shared by secrets and signatures.
#include <doctest/doctest.h>

#include <fiskil/webhooks.hpp>

#include <random>
#include <string>
#include <vector>

#include "support.hpp"

namespace b64 = fiskil::webhooks::detail::base64;

namespace {

struct decoded {
  b64::status verdict;
  std::string bytes;
};

using decoder = b64::decode_result (*)(std::string_view, unsigned char*, std::size_t) noexcept;

decoded decode_with(decoder decode_fn, std::string_view text) {
  std::vector<unsigned char> out(text.size() + 3);
  const b64::decode_result r = decode_fn(text, out.data(), out.size());
  return {r.verdict, std::string(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(r.size))};
}

// decode runs both decoders (public and constant-time) and insists that
// they agree, so every case below checks both.
decoded decode(std::string_view text) {
  const decoded fast = decode_with(&b64::decode, text);
  const decoded secret = decode_with(&b64::decode_secret, text);
  CAPTURE(text);
  CHECK(fast.verdict == secret.verdict);
  CHECK(fast.bytes == secret.bytes);
  CHECK(fast.verdict == b64::diagnose(text));
  return fast;
}

std::string encode(std::string_view bytes) {
  std::string out(b64::encoded_size(bytes.size()), '?');
  b64::encode(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), out.data());
  return out;
}

}  // namespace

TEST_CASE("RFC 4648 section 10 vectors encode and decode") {
  const std::pair<std::string_view, std::string_view> vectors[] = {
      {"", ""},         {"f", "Zg=="},         {"fo", "Zm8="},     {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"}};
  for (const auto& vector : vectors) {
    const std::string_view plain = vector.first, text = vector.second;
    CAPTURE(text);
    CHECK(encode(plain) == text);
    const decoded d = decode(text);
    CHECK(d.verdict == b64::status::ok);
    CHECK(d.bytes == plain);
  }
  // Section 9's examples use '+' and '/'.
  CHECK(encode(std::string("\x14\xfb\x9c\x03\xd9\x7e", 6)) == "FPucA9l+");
  CHECK(encode(std::string("\x14\xfb\x9c\x03\xd9", 5)) == "FPucA9k=");
  CHECK(encode(std::string("\x14\xfb\x9c\x03", 4)) == "FPucAw==");
  CHECK(decode("FPucA9l+").bytes == std::string("\x14\xfb\x9c\x03\xd9\x7e", 6));
}

TEST_CASE("strict decoding names each kind of bad input") {
  const std::pair<std::string_view, b64::status> cases[] = {
      {"Zm9v Yg==", b64::status::whitespace},  {"Zm9v\n", b64::status::whitespace},
      {"Zm9v\tYg==", b64::status::whitespace}, {"Zm-v", b64::status::url_safe},
      {"Zm_v", b64::status::url_safe},         {"Zm9*", b64::status::invalid_character},
      {std::string_view("Zm9\0", 4), b64::status::invalid_character},
      {"Zm9v\xc3\xa9", b64::status::invalid_character},
      {"Zg==Zg==", b64::status::padding_misplaced}, {"=Zg=", b64::status::padding_misplaced},
      {"Z", b64::status::impossible_length},  {"Zm9vY", b64::status::impossible_length},
      {"Zg", b64::status::padding_missing},   {"Zg=", b64::status::padding_missing},
      {"Zm8", b64::status::padding_missing},  {"Zg===", b64::status::padding_extra},
      {"Zm8==", b64::status::padding_extra},  {"Zm9v=", b64::status::padding_extra},
      {"Zh==", b64::status::non_canonical},   {"Zm9=", b64::status::non_canonical},
      {"Zm9vYh==", b64::status::non_canonical}, {"=", b64::status::padding_extra},
  };
  for (const auto& bad : cases) {
    const std::string_view text = bad.first;
    const b64::status verdict = bad.second;
    CAPTURE(text);
    CHECK(decode(text).verdict == verdict);
  }
}

TEST_CASE("a buffer too small is refused, not overrun") {
  for (decoder decode_fn : {decoder{&b64::decode}, decoder{&b64::decode_secret}}) {
    unsigned char out[2] = {0xAA, 0xAA};
    const b64::decode_result r = decode_fn("Zm9v", out, sizeof out);
    CHECK(r.verdict == b64::status::output_too_small);
    CHECK(out[0] == 0xAA);
  }
}

TEST_CASE("the public and constant-time decoders agree on random text") {
  // Characters weighted towards the ones that matter: padding, the edges of
  // the alphabet, both alphabets' 62nd/63rd symbols, whitespace, others.
  const std::string_view pool = "AAZaz09+/==-_ \t\n*.\x80\xffQg";
  std::mt19937 rng(4648);
  long ok = 0;
  for (int trial = 0; trial < 200000; ++trial) {
    std::string text(rng() % 13, '?');
    for (char& c : text) c = pool[rng() % pool.size()];
    if (trial % 3 == 0 && text.size() >= 2) text[text.size() - 1] = '=';
    const decoded fast = decode_with(&b64::decode, text);
    const decoded secret = decode_with(&b64::decode_secret, text);
    if (fast.verdict != secret.verdict || fast.bytes != secret.bytes || fast.verdict != b64::diagnose(text)) {
      CAPTURE(text);
      FAIL("decoders disagree");
    }
    ok += fast.verdict == b64::status::ok;
  }
  CHECK(ok > 1000);  // the generator does reach valid text
}

TEST_CASE("encode then decode round-trips every length and byte") {
  std::mt19937 rng(20261123);
  for (std::size_t length = 0; length < 200; ++length) {
    std::string bytes(length, '\0');
    for (char& c : bytes) c = static_cast<char>(rng());
    const std::string text = encode(bytes);
    const decoded d = decode(text);
    CAPTURE(length);
    REQUIRE(d.verdict == b64::status::ok);
    CHECK(d.bytes == bytes);
  }
  std::string all(256, '\0');
  for (int i = 0; i < 256; ++i) all[static_cast<std::size_t>(i)] = static_cast<char>(i);
  CHECK(decode(encode(all)).bytes == all);
}

TEST_CASE("every single character is classified like the RFC 4648 alphabet says") {
  const std::string_view alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (int c = 0; c < 256; ++c) {
    const auto s = b64::decode_char(static_cast<std::uint32_t>(c));
    const std::size_t at = alphabet.find(static_cast<char>(c));
    CAPTURE(c);
    if (at == std::string_view::npos) {
      CHECK(s.valid == 0);
    } else {
      CHECK(s.valid == 0xFFFFFFFFu);
      CHECK(s.value == at);
      CHECK(b64::encode_sextet(static_cast<std::uint32_t>(at)) == static_cast<char>(c));
    }
  }
}

TEST_CASE("RFC 4648 strict decode cases from ../shared/testdata, when present") {
  const auto dir = test_support::shared_testdata_dir();
  if (dir.empty()) return;
  const std::string json = test_support::read_file(dir / "rfc4648_base64.json");
  simdjson::dom::parser p;
  simdjson::dom::element doc;
  REQUIRE(p.parse(json).get(doc) == simdjson::SUCCESS);
  int checked = 0;
  for (simdjson::dom::element c : test_support::array_at(doc, "decodeCases")) {
    const std::string_view input = c["input"].get_string().value_unsafe();
    const bool valid = c["strictValid"].get_bool().value_unsafe();
    CAPTURE(input);
    const decoded d = decode(input);
    CHECK((d.verdict == b64::status::ok) == valid);
    if (valid) {
      const auto expected = test_support::from_hex(c["outputHex"].get_string().value_unsafe());
      CHECK(d.bytes == std::string(expected.begin(), expected.end()));
    }
    ++checked;
  }
  CHECK(checked > 20);
  int encoded = 0;
  for (simdjson::dom::element v : test_support::array_at(doc, "encodeVectors")) {
    const auto plain = test_support::from_hex(v["inputHex"].get_string().value_unsafe());
    CHECK(encode(std::string(plain.begin(), plain.end())) == v["base64"].get_string().value_unsafe());
    ++encoded;
  }
  CHECK(encoded == 10);
}
