// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
#pragma once

#include <algorithm>
#include <array>
#include <concepts>
#include <cstddef>
#include <cstring>
#include <span>
#include <string_view>
#include <system_error>
#include <type_traits>

#include "detail/base64.hpp"
#include "detail/constant_time.hpp"
#include "detail/sha256.hpp"
#include "error.hpp"
#include "result.hpp"

namespace fiskil::webhooks {

// mac_size is the length of an HMAC-SHA256 tag; signature_size is the length
// of its base64 text in X-Fiskil-Signature.
inline constexpr std::size_t mac_size = detail::sha256::digest_size;
inline constexpr std::size_t signature_size = detail::base64::encoded_size(mac_size);
// max_secret_size bounds a signing secret, decoded; keys longer than one
// SHA-256 block (64 bytes) are hashed first, as RFC 2104 says.
inline constexpr std::size_t max_secret_size = 1024;

template <std::size_t Capacity>
class basic_keyring;

namespace detail {
struct key_access;
}

// signing_key is one Fiskil signing secret, ready to verify with: the HMAC
// pad states, derived once (the key bytes are wiped). As sensitive as the
// key. A trivially copyable value of about 230 bytes, no heap, shareable
// read-only between threads; it cannot wipe itself when destroyed.
class signing_key {
 public:
  // from_base64 makes a key from the signing secret as the Fiskil dashboard
  // shows it: standard base64 with '=' padding. Surrounding spaces, tabs,
  // CRs and LFs are ignored (secrets are usually read from files); anything
  // else that is not strict, canonical base64 is refused with an errc naming
  // the problem (secret_empty, secret_whitespace, secret_url_safe_alphabet,
  // secret_padding_missing, ...). secret_too_long beyond max_secret_size.
  // The characters of the secret are decoded in constant time.
  [[nodiscard]] static result<signing_key> from_base64(std::string_view secret) noexcept;

  // from_bytes makes a key from raw key bytes (for keys kept in binary, or
  // test vectors). Fails with secret_empty or secret_too_long.
  [[nodiscard]] static result<signing_key> from_bytes(std::span<const unsigned char> key) noexcept;

 private:
  signing_key() noexcept = default;
  template <std::size_t>
  friend class basic_keyring;
  friend struct detail::key_access;

  detail::sha256::context inner_;  // after absorbing key XOR ipad
  detail::sha256::context outer_;  // after absorbing key XOR opad
};

static_assert(std::is_trivially_copyable_v<signing_key>,
              "fw::signing_key must stay trivially copyable (shared read-only, no heap)");

// basic_keyring holds up to Capacity signing keys, for secret rotation: a
// delivery is authentic when it verifies under any of them. Storage is
// inline (no heap); use fw::keyring (capacity 4) unless you need more.
//
// Verification tries every key, always, so the time taken does not reveal
// which key matched; verify(ring, ...) then returns which one did, so you
// know when an old secret stops being used and can be retired.
template <std::size_t Capacity>
class basic_keyring {
  static_assert(Capacity >= 1, "fw::basic_keyring<Capacity>: Capacity must be at least 1");

 public:
  static constexpr std::size_t capacity = Capacity;

  // basic_keyring() is empty; verifying with an empty keyring fails with
  // errc::keyring_empty.
  basic_keyring() noexcept = default;

  // basic_keyring{newest, older...} holds the given keys in that order.
  template <class... Keys>
    requires(sizeof...(Keys) >= 1 && (std::same_as<Keys, signing_key> && ...))
  basic_keyring(const Keys&... keys) noexcept {  // NOLINT: implicit on purpose
    static_assert(sizeof...(Keys) <= Capacity,
                  "fw::keyring: more keys than the keyring's capacity; use fw::basic_keyring<N>");
    ((keys_[size_++] = keys), ...);
  }

  // add appends a key; errc::keyring_full when all Capacity slots are used.
  [[nodiscard]] status add(const signing_key& key) noexcept {
    if (size_ == Capacity) return errc::keyring_full;
    keys_[size_++] = key;
    return {};
  }

  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] bool empty() const noexcept { return size_ == 0; }
  // keys lists the held keys, newest first as given.
  [[nodiscard]] std::span<const signing_key> keys() const noexcept { return {keys_, size_}; }

 private:
  signing_key keys_[Capacity];
  std::size_t size_ = 0;
};

// keyring is the keyring for ordinary rotation: up to 4 keys.
using keyring = basic_keyring<4>;

// signature is base64(HMAC-SHA256(key, body)): the text of one
// X-Fiskil-Signature header. It is what fw::sign produces.
class signature {
 public:
  [[nodiscard]] std::string_view view() const noexcept { return {text_.data(), text_.size()}; }

 private:
  friend signature sign(const signing_key& key, std::string_view body) noexcept;
  std::array<char, signature_size> text_{};
};

namespace detail {

struct key_access {
  static const sha256::context& inner(const signing_key& key) noexcept { return key.inner_; }
  static const sha256::context& outer(const signing_key& key) noexcept { return key.outer_; }
};

// compute_mac writes HMAC-SHA256(key, body) to mac. The result is secret
// until compared: callers compare it with mask_if_macs_differ and wipe it.
// Both hashes continue from the key's precomputed pad states, which have
// absorbed one block each: the inner one takes the body and its padding,
// the outer one the inner digest.
inline void compute_mac(const signing_key& key, std::string_view body,
                        unsigned char (&mac)[mac_size]) noexcept {
  sha256::chaining inner, outer;
  sha256::start(inner, key_access::inner(key));
  sha256::absorb_final(inner, sha256::block_size, reinterpret_cast<const unsigned char*>(body.data()), body.size());
  sha256::start(outer, key_access::outer(key));
  sha256::absorb_final_digest(outer, inner);
  sha256::store_digest(outer, mac);
  sha256::wipe(&inner, sizeof inner);
  sha256::wipe(&outer, sizeof outer);
}

// base64_errcs names, for one kind of base64 text (a signature header or a
// secret), the errc of each way it can be malformed; base64_errc maps a
// decoder verdict through it. One switch serves both kinds.
struct base64_errcs {
  errc whitespace, url_safe, invalid_character, padding_misplaced, padding_missing, padding_extra,
      non_canonical, impossible_length, otherwise;
};

inline constexpr base64_errcs signature_errcs{
    errc::signature_whitespace,        errc::signature_url_safe_alphabet, errc::signature_invalid_character,
    errc::signature_padding_misplaced, errc::signature_padding_missing,   errc::signature_padding_extra,
    errc::signature_non_canonical,     errc::signature_wrong_length,      errc::signature_wrong_length};

inline constexpr base64_errcs secret_errcs{
    errc::secret_whitespace,        errc::secret_url_safe_alphabet, errc::secret_invalid_character,
    errc::secret_padding_misplaced, errc::secret_padding_missing,   errc::secret_padding_extra,
    errc::secret_non_canonical,     errc::secret_impossible_length, errc::secret_too_long};

inline constexpr errc base64_errc(base64::status verdict, const base64_errcs& names) noexcept {
  switch (verdict) {
    case base64::status::whitespace: return names.whitespace;
    case base64::status::url_safe: return names.url_safe;
    case base64::status::invalid_character: return names.invalid_character;
    case base64::status::padding_misplaced: return names.padding_misplaced;
    case base64::status::padding_missing: return names.padding_missing;
    case base64::status::padding_extra: return names.padding_extra;
    case base64::status::non_canonical: return names.non_canonical;
    case base64::status::impossible_length: return names.impossible_length;
    case base64::status::output_too_small:
    case base64::status::ok: break;
  }
  return names.otherwise;
}

// trim_header drops HTTP's optional whitespace (spaces and tabs) around a
// header value.
inline std::string_view trim_header(std::string_view text) noexcept {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

// trim_secret drops spaces, tabs, CRs and LFs around a secret. Whether an end
// character is blank is declassified: it is public for a valid secret (no
// base64 character is blank) and needed to find the text's length.
inline std::string_view trim_secret(std::string_view text) noexcept {
  const auto is_blank = [](char ch) {
    const std::uint32_t c = static_cast<unsigned char>(ch);
    return ct::declassified(ct::mask_if_equal(c, ' ') | ct::mask_if_equal(c, '\t') |
                            ct::mask_if_equal(c, '\r') | ct::mask_if_equal(c, '\n')) != 0;
  };
  while (!text.empty() && is_blank(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_blank(text.back())) text.remove_suffix(1);
  return text;
}

// signature_error says why trimmed header text is not a signature: the
// diagnosis behind decode_signature's fast path, run only on failure.
inline errc signature_error(std::string_view text) noexcept {
  if (text.empty()) return errc::signature_missing;
  // Bound the work spent on an attacker's header before looking inside it.
  if (text.size() > 2 * signature_size) return errc::signature_wrong_length;
  const base64::status verdict = base64::diagnose(text);
  if (verdict == base64::status::whitespace || verdict == base64::status::url_safe ||
      verdict == base64::status::invalid_character)
    return base64_errc(verdict, signature_errcs);
  // Padding problems are named only for text of the right length otherwise
  // (43 data characters); "sha256=<mac>" and the like are the wrong length.
  const auto padding = static_cast<std::size_t>(std::count(text.begin(), text.end(), '='));
  if (text.size() - padding != signature_size - 1 || verdict == base64::status::ok)
    return errc::signature_wrong_length;
  return base64_errc(verdict, signature_errcs);
}

// decode_signature parses an X-Fiskil-Signature header value strictly:
// optional spaces and tabs around (HTTP's optional whitespace), then exactly
// 44 characters of canonical standard base64 of a 32-byte MAC.
// It returns errc{} for a good header: the hot path builds no
// std::error_code (whose empty value costs a call to
// std::system_category()); the public functions make one at the end.
inline errc decode_signature(std::string_view header, unsigned char (&mac)[mac_size]) noexcept {
  const std::string_view text = trim_header(header);
  if (text.size() == signature_size) {
    const base64::decode_result r = base64::decode(text, mac, mac_size);
    if (r.verdict == base64::status::ok && r.size == mac_size) return errc{};
  }
  return signature_error(text);
}

// mask_if_macs_differ is all-ones when the two MACs differ. The bytes are
// compared by CRYPTO_memcmp, the backend's audited constant-time compare,
// and its result becomes a mask without a branch.
inline std::uint32_t mask_if_macs_differ(const unsigned char (&mac)[mac_size],
                                         const unsigned char (&expected)[mac_size]) noexcept {
  return ct::mask_if_nonzero(static_cast<std::uint32_t>(sha256::compare(mac, expected, mac_size)));
}

// check_signature is verify with an errc (errc{} when authentic).
inline errc check_signature(const signing_key& key, std::string_view body, std::string_view signature_header) noexcept {
  unsigned char mac[mac_size];
  compute_mac(key, body, mac);
  unsigned char expected[mac_size];
  if (const errc malformed = decode_signature(signature_header, expected); malformed != errc{}) {
    sha256::wipe(mac, sizeof mac);
    return malformed;
  }
  const std::uint32_t differs = mask_if_macs_differ(mac, expected);
  sha256::wipe(mac, sizeof mac);
  return ct::declassified(differs) != 0 ? errc::signature_mismatch : errc{};
}

// find_matching_key is verify(ring, ...) with an errc; index is set when
// it returns errc{}.
template <std::size_t Capacity>
errc find_matching_key(const basic_keyring<Capacity>& ring, std::string_view body,
                       std::string_view signature_header, std::size_t& index) noexcept {
  if (ring.empty()) return errc::keyring_empty;
  const std::span<const signing_key> keys = ring.keys();
  // As in verify, the header is decoded while the first MAC completes.
  unsigned char mac[mac_size];
  compute_mac(keys[0], body, mac);
  unsigned char expected[mac_size];
  if (const errc malformed = decode_signature(signature_header, expected); malformed != errc{}) {
    sha256::wipe(mac, sizeof mac);
    return malformed;
  }
  std::uint32_t matched = ~mask_if_macs_differ(mac, expected);  // mask: some key matched
  std::uint32_t matched_at = 0;  // its index, meaningful when matched
  for (std::size_t i = 1; i < keys.size(); ++i) {
    compute_mac(keys[i], body, mac);
    const std::uint32_t equal = ~mask_if_macs_differ(mac, expected);
    // Keep the first match (rings list the newest key first).
    matched_at = ct::select(equal & ~matched, static_cast<std::uint32_t>(i), matched_at);
    matched |= equal;
  }
  sha256::wipe(mac, sizeof mac);
  if (ct::declassified(matched) == 0) return errc::signature_mismatch;
  index = ct::declassified(matched_at);
  return errc{};
}

}  // namespace detail

inline result<signing_key> signing_key::from_bytes(std::span<const unsigned char> key) noexcept {
  if (key.empty()) return errc::secret_empty;
  if (key.size() > max_secret_size) return errc::secret_too_long;
  namespace sha256 = detail::sha256;

  // RFC 2104: a key longer than the block is replaced by its hash, then the
  // key is zero-padded to the block size.
  unsigned char block[sha256::block_size] = {};
  if (key.size() > sha256::block_size) {
    unsigned char digest[sha256::digest_size];
    sha256::digest(key.data(), key.size(), digest);
    std::memcpy(block, digest, sizeof digest);
    sha256::wipe(digest, sizeof digest);
  } else {
    std::memcpy(block, key.data(), key.size());
  }
  // The key is born here: from now on it is secret for the constant-time
  // checker (FISKIL_WEBHOOKS_CT_VALGRIND; no code otherwise).
  detail::ct::mark_secret(block, sizeof block);

  signing_key made;
  unsigned char pad[sha256::block_size];
  for (std::size_t i = 0; i < sizeof pad; ++i) pad[i] = static_cast<unsigned char>(block[i] ^ 0x36u);
  sha256::absorb_pad(made.inner_, pad);
  for (std::size_t i = 0; i < sizeof pad; ++i) pad[i] = static_cast<unsigned char>(block[i] ^ 0x5cu);
  sha256::absorb_pad(made.outer_, pad);
  sha256::wipe(pad, sizeof pad);
  sha256::wipe(block, sizeof block);
  // What the key leaves behind, the two pad states (their h), is as secret
  // as the key.
  detail::ct::mark_secret(made.inner_.h, sizeof made.inner_.h);
  detail::ct::mark_secret(made.outer_.h, sizeof made.outer_.h);
  return made;
}

inline result<signing_key> signing_key::from_base64(std::string_view secret) noexcept {
  const std::string_view text = detail::trim_secret(secret);
  if (text.empty()) return errc::secret_empty;
  if (text.size() > detail::base64::encoded_size(max_secret_size)) return errc::secret_too_long;
  // Room for the longest accepted text, whose decoding may exceed the limit
  // by up to two bytes before the size check below refuses it.
  unsigned char bytes[max_secret_size + 2];
  const detail::base64::decode_result r = detail::base64::decode_secret(text, bytes, sizeof bytes);
  if (r.verdict != detail::base64::status::ok) return detail::base64_errc(r.verdict, detail::secret_errcs);
  result<signing_key> made = r.size > max_secret_size
                                 ? result<signing_key>{errc::secret_too_long}
                                 : from_bytes(std::span<const unsigned char>{bytes, r.size});
  detail::sha256::wipe(bytes, sizeof bytes);
  return made;
}

// verify checks that signature_header (the X-Fiskil-Signature value) is the
// HMAC-SHA256 of exactly the bytes of body under key. It returns success
// (true) when the delivery is authentic, errc::signature_mismatch when it is
// not, and another signature_* errc when the header is malformed.
//
// Pass the body exactly as received: whitespace and key order are signed.
// The MAC is compared with CRYPTO_memcmp; no branch or memory index depends
// on it or on the key. A malformed header costs one HMAC of the body, as a
// well-formed wrong one does. Nothing is retained after the call.
[[nodiscard]] inline status verify(const signing_key& key, std::string_view body,
                                   std::string_view signature_header) noexcept {
  const errc verdict = detail::check_signature(key, body, signature_header);
  if (verdict != errc{}) return verdict;
  return {};
}

// verify(ring, ...) verifies under every key of ring, whatever the outcome,
// and returns the index in ring.keys() of the first key that authenticated
// the body (rings list the newest first). Errors: keyring_empty,
// signature_mismatch, or the signature_* errc for a malformed header.
template <std::size_t Capacity>
[[nodiscard]] result<std::size_t> verify(const basic_keyring<Capacity>& ring, std::string_view body,
                                         std::string_view signature_header) noexcept {
  std::size_t index = 0;
  const errc verdict = detail::find_matching_key(ring, body, signature_header, index);
  if (verdict != errc{}) return verdict;
  return index;
}

// sign computes the X-Fiskil-Signature value for body under key. It is for
// producing deliveries: fixtures, tests, replaying a body to your own
// endpoint. To check a delivery call verify, never compare sign's output
// yourself: a plain == leaks, through its timing, how much of a forged
// signature is right.
[[nodiscard]] inline signature sign(const signing_key& key, std::string_view body) noexcept {
  unsigned char mac[mac_size];
  detail::compute_mac(key, body, mac);
  signature made;
  detail::base64::encode(mac, sizeof mac, made.text_.data());
  detail::sha256::wipe(mac, sizeof mac);
  // A signature is made to be sent: public.
  detail::ct::declassify(made.text_.data(), made.text_.size());
  return made;
}

}  // namespace fiskil::webhooks
