// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
//
// The signature header decoder and the two base64 decoders behind it.
//
// Properties, for any input text:
//  - decode_signature accepts exactly the texts that a plain strict decoder
//    (naive_base64_decode) decodes to 32 bytes after trimming spaces and
//    tabs, with the same bytes, and the MAC re-encodes to that text;
//    otherwise it names a signature_* errc other than signature_mismatch,
//    whose class the text really has (whitespace inside, '-' or '_', ...);
//  - the public decoder (table-driven) and the constant-time one agree on
//    every text: verdict, bytes, and both equal diagnose()'s verdict;
//  - signing_key::from_base64 accepts exactly the secrets the plain decoder
//    accepts after trimming blanks, with 1 to 1024 bytes, and the key made is
//    the one from_bytes makes from those bytes.
#include <algorithm>
#include <cstring>
#include <vector>

#include "fuzz_support.hpp"

namespace {

namespace fw = fiskil::webhooks;
namespace b64 = fw::detail::base64;
using fuzz::naive_base64_decode;

constexpr std::string_view alphabet_and_pad =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=";

bool has_any(std::string_view text, std::string_view chars) {
  return text.find_first_of(chars) != std::string_view::npos;
}

void check_signature_header(std::string_view header) {
  unsigned char mac[fw::mac_size];
  const std::error_code ec = fw::detail::decode_signature(header, mac);
  const std::string_view trimmed = fuzz::trim(header, " \t");
  const std::optional<std::string> reference = naive_base64_decode(trimmed);
  const bool reference_ok = reference && reference->size() == fw::mac_size;
  FUZZ_CHECK(!ec == reference_ok);
  if (!ec) {
    FUZZ_CHECK(std::memcmp(mac, reference->data(), fw::mac_size) == 0);
    FUZZ_CHECK(fuzz::base64_encode(*reference) == trimmed);
    return;
  }
  FUZZ_CHECK(ec.category() == fw::error_category());
  FUZZ_CHECK(ec == fw::error_kind::signature);
  FUZZ_CHECK(ec != fw::errc::signature_mismatch);
  switch (static_cast<fw::errc>(ec.value())) {
    case fw::errc::signature_missing: FUZZ_CHECK(trimmed.empty()); break;
    case fw::errc::signature_whitespace: FUZZ_CHECK(has_any(trimmed, " \t\r\n\f\v")); break;
    case fw::errc::signature_url_safe_alphabet: FUZZ_CHECK(has_any(trimmed, "-_")); break;
    case fw::errc::signature_invalid_character:
      FUZZ_CHECK(trimmed.find_first_not_of(alphabet_and_pad) != std::string_view::npos);
      break;
    case fw::errc::signature_padding_missing:
    case fw::errc::signature_padding_extra:
    case fw::errc::signature_padding_misplaced:
      // Padding is named only for text of a signature's length otherwise:
      // 43 data characters.
      FUZZ_CHECK(trimmed.find_first_not_of(alphabet_and_pad) == std::string_view::npos);
      FUZZ_CHECK(trimmed.size() - static_cast<std::size_t>(std::count(trimmed.begin(), trimmed.end(), '=')) ==
                 fw::signature_size - 1);
      break;
    case fw::errc::signature_non_canonical:
      FUZZ_CHECK(trimmed.size() == fw::signature_size);
      FUZZ_CHECK(b64::diagnose(trimmed) == b64::status::non_canonical);
      break;
    case fw::errc::signature_wrong_length:
      FUZZ_CHECK(!trimmed.empty());
      FUZZ_CHECK(!reference_ok);
      break;
    default: FUZZ_CHECK(false && "decode_signature returned an errc that is not about the header");
  }
}

void check_decoders_agree(std::string_view text) {
  const std::size_t room = text.size() + 3;
  std::vector<unsigned char> fast(room), secret(room);
  const b64::decode_result f = b64::decode(text, fast.data(), room);
  const b64::decode_result s = b64::decode_secret(text, secret.data(), room);
  FUZZ_CHECK(f.verdict == s.verdict);
  FUZZ_CHECK(f.verdict == b64::diagnose(text));
  const std::optional<std::string> reference = naive_base64_decode(text);
  FUZZ_CHECK((f.verdict == b64::status::ok) == reference.has_value());
  if (f.verdict != b64::status::ok) {
    FUZZ_CHECK(f.size == 0 && s.size == 0);
    return;
  }
  FUZZ_CHECK(f.size == reference->size() && s.size == reference->size());
  FUZZ_CHECK(std::memcmp(fast.data(), reference->data(), f.size) == 0);
  FUZZ_CHECK(std::memcmp(secret.data(), reference->data(), s.size) == 0);
  FUZZ_CHECK(fuzz::base64_encode(*reference) == text);
  // One byte short of room: both decoders refuse rather than overflow.
  if (f.size > 0) {
    FUZZ_CHECK(b64::decode(text, fast.data(), f.size - 1).verdict == b64::status::output_too_small);
    FUZZ_CHECK(b64::decode_secret(text, secret.data(), s.size - 1).verdict == b64::status::output_too_small);
  }
}

void check_secret(std::string_view text) {
  const fw::result<fw::signing_key> key = fw::signing_key::from_base64(text);
  const std::string_view trimmed = fuzz::trim(text, " \t\r\n");
  const std::optional<std::string> reference = naive_base64_decode(trimmed);
  const bool reference_ok = reference && !reference->empty() && reference->size() <= fw::max_secret_size;
  FUZZ_CHECK(key.has_value() == reference_ok);
  if (!key) {
    FUZZ_CHECK(key.error() == fw::error_kind::secret);
    if (trimmed.empty()) FUZZ_CHECK(key.error() == fw::errc::secret_empty);
    if (reference && reference->size() > fw::max_secret_size) FUZZ_CHECK(key.error() == fw::errc::secret_too_long);
    return;
  }
  const fw::result<fw::signing_key> from_bytes = fw::signing_key::from_bytes(
      {reinterpret_cast<const unsigned char*>(reference->data()), reference->size()});
  FUZZ_CHECK(from_bytes.has_value());
  constexpr std::string_view body = R"({"publish_time":"2026-01-01T00:00:00Z","message_id":"m","data":{}})";
  FUZZ_CHECK(fw::sign(*key, body).view() == fw::sign(*from_bytes, body).view());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = fuzz::as_text(data, size);
  check_signature_header(text);
  check_decoders_agree(text);
  check_secret(text);
  return 0;
}
