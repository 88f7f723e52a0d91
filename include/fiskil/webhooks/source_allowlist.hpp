// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
//
// Source allowlist: accept deliveries only from the provider's addresses.
// The addresses are configuration, read from text at start-up; nothing here
// names the provider's ranges.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <system_error>

#include "error.hpp"
#include "result.hpp"

#if __has_include(<netinet/in.h>) && __has_include(<sys/socket.h>)
#include <netinet/in.h>
#include <sys/socket.h>
#define FISKIL_WEBHOOKS_HAS_SOCKADDR 1
#endif

namespace fiskil::webhooks {

// ip_address is an IPv4 or IPv6 address, kept as 16 bytes in network order;
// IPv4 addresses are kept IPv4-mapped (::ffff:a.b.c.d, RFC 4291 2.5.5.2), so
// that "10.1.2.3" and "::ffff:10.1.2.3" are the same address and match the
// same ranges. A trivially copyable value.
class ip_address {
 public:
  // ip_address() is ::, the unspecified address.
  constexpr ip_address() noexcept = default;

  // parse reads dotted-decimal IPv4 ("192.0.2.1": four decimal octets, no
  // leading zeros) or RFC 4291 IPv6 text ("2001:db8::1", "::ffff:192.0.2.1").
  // No surrounding whitespace, brackets, ports or zone ids ("%eth0").
  // Error: address_malformed. Does not allocate.
  [[nodiscard]] static result<ip_address> parse(std::string_view text) noexcept;

  // from_bytes takes an address in network byte order: 4 bytes (IPv4, such
  // as sockaddr_in's sin_addr) or 16 (IPv6, sin6_addr). Error:
  // address_malformed for any other size.
  [[nodiscard]] static result<ip_address> from_bytes(std::span<const unsigned char> bytes) noexcept {
    ip_address made;
    if (bytes.size() == 4) {
      made.bytes_[10] = made.bytes_[11] = 0xff;
      for (std::size_t i = 0; i < 4; ++i) made.bytes_[12 + i] = bytes[i];
      return made;
    }
    if (bytes.size() != 16) return errc::address_malformed;
    for (std::size_t i = 0; i < 16; ++i) made.bytes_[i] = bytes[i];
    return made;
  }

#if defined(FISKIL_WEBHOOKS_HAS_SOCKADDR)
  // from_sockaddr takes the address of a sockaddr_in (AF_INET) or
  // sockaddr_in6 (AF_INET6), such as accept() or getpeername() fill in; the
  // port is ignored. Error: address_malformed for a null pointer or another
  // family. POSIX systems only. (Not inlined: inlined at a call site that
  // passes a sockaddr_in, GCC 12 warns about the sockaddr_in6 branch.)
  [[nodiscard]] [[gnu::noinline]] static result<ip_address> from_sockaddr(const sockaddr* address) noexcept {
    if (address == nullptr) return errc::address_malformed;
    if (address->sa_family == AF_INET) {
      const auto* v4 = reinterpret_cast<const sockaddr_in*>(address);
      return from_bytes(std::span<const unsigned char>{reinterpret_cast<const unsigned char*>(&v4->sin_addr), 4});
    }
    if (address->sa_family == AF_INET6) {
      const auto* v6 = reinterpret_cast<const sockaddr_in6*>(address);
      return from_bytes(std::span<const unsigned char>{reinterpret_cast<const unsigned char*>(&v6->sin6_addr), 16});
    }
    return errc::address_malformed;
  }
#endif
  // is_v4 says whether this is an IPv4 (IPv4-mapped) address.
  [[nodiscard]] constexpr bool is_v4() const noexcept {
    for (std::size_t i = 0; i < 10; ++i)
      if (bytes_[i] != 0) return false;
    return bytes_[10] == 0xff && bytes_[11] == 0xff;
  }
  // bytes is the 16-byte form, network order.
  [[nodiscard]] constexpr const std::array<std::uint8_t, 16>& bytes() const noexcept { return bytes_; }

  friend constexpr bool operator==(const ip_address&, const ip_address&) noexcept = default;

 private:
  friend struct ip_range;
  constexpr std::uint64_t high() const noexcept { return word(0); }
  constexpr std::uint64_t low() const noexcept { return word(8); }
  constexpr std::uint64_t word(std::size_t at) const noexcept {
    std::uint64_t w = 0;
    for (std::size_t i = 0; i < 8; ++i) w = (w << 8) | bytes_[at + i];
    return w;
  }

  std::array<std::uint8_t, 16> bytes_{};
};

// ip_range is a CIDR range: the addresses whose first prefix_length bits
// (counted in the 128-bit form, so an IPv4 /8 is a /104) equal network's.
struct ip_range {
  std::uint64_t network_high = 0, network_low = 0;
  std::uint64_t mask_high = 0, mask_low = 0;
  std::uint8_t prefix_length = 0;  // 0 to 128, in the 128-bit form

  // make returns the range, allowlist_prefix_malformed when prefix_length is
  // over 128, or allowlist_host_bits_set when network has bits set past the
  // prefix (10.0.0.1/8 names no range: write 10.0.0.0/8).
  [[nodiscard]] static result<ip_range> make(const ip_address& network, unsigned prefix_length) noexcept {
    if (prefix_length > 128) return errc::allowlist_prefix_malformed;
    ip_range range;
    range.prefix_length = static_cast<std::uint8_t>(prefix_length);
    range.mask_high = prefix_length == 0 ? 0 : prefix_length >= 64 ? ~std::uint64_t{0} : ~std::uint64_t{0} << (64 - prefix_length);
    range.mask_low = prefix_length <= 64 ? 0 : prefix_length >= 128 ? ~std::uint64_t{0} : ~std::uint64_t{0} << (128 - prefix_length);
    range.network_high = network.high() & range.mask_high;
    range.network_low = network.low() & range.mask_low;
    if (range.network_high != network.high() || range.network_low != network.low())
      return errc::allowlist_host_bits_set;
    return range;
  }

  [[nodiscard]] constexpr bool contains(const ip_address& address) const noexcept {
    return (address.high() & mask_high) == network_high && (address.low() & mask_low) == network_low;
  }
};

// allowlist_parse_error says where source_allowlist text went wrong: the
// error, the entry's number (1 for the first entry), its byte offset in the
// text, and the entry as written (a view into the text given to parse).
struct allowlist_parse_error {
  std::error_code code;
  std::size_t entry = 0;
  std::size_t offset = 0;
  std::string_view text;
};

namespace detail::ip_text {

constexpr int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// parse_v4 reads exactly four dotted decimal octets into out[0..3].
constexpr bool parse_v4(std::string_view text, std::uint8_t* out) noexcept {
  std::size_t i = 0;
  for (int part = 0; part < 4; ++part) {
    if (part > 0) {
      if (i >= text.size() || text[i] != '.') return false;
      ++i;
    }
    const std::size_t first = i;
    unsigned value = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9' && i - first < 3) value = value * 10 + unsigned(text[i++] - '0');
    const std::size_t digits = i - first;
    // No leading zeros: "010" is octal to some parsers and decimal to others.
    if (digits == 0 || value > 255 || (digits > 1 && text[first] == '0')) return false;
    out[part] = static_cast<std::uint8_t>(value);
  }
  return i == text.size();
}

// parse_v6 reads RFC 4291 2.2 text: eight groups of 1 to 4 hex digits, one
// "::" standing for one or more zero groups, the last 32 bits optionally
// dotted-decimal.
constexpr bool parse_v6(std::string_view text, std::uint8_t* out) noexcept {
  if (text.size() < 2 || text.size() > 45) return false;
  std::uint16_t groups[8] = {};
  int count = 0;
  int gap = -1;  // the group index where "::" stands
  std::size_t i = 0;
  if (text[0] == ':') {
    if (text[1] != ':') return false;
    gap = 0;
    i = 2;
  }
  while (i < text.size()) {
    if (count == 8) return false;
    std::size_t end = i;
    bool dotted = false;
    while (end < text.size() && text[end] != ':') dotted |= text[end++] == '.';
    if (dotted) {
      std::uint8_t v4[4] = {};
      if (end != text.size() || count > 6 || !parse_v4(text.substr(i, end - i), v4)) return false;
      groups[count++] = static_cast<std::uint16_t>(v4[0] << 8 | v4[1]);
      groups[count++] = static_cast<std::uint16_t>(v4[2] << 8 | v4[3]);
      i = end;
      break;
    }
    if (end == i || end - i > 4) return false;
    unsigned value = 0;
    for (std::size_t k = i; k < end; ++k) {
      const int digit = hex_value(text[k]);
      if (digit < 0) return false;
      value = value * 16 + unsigned(digit);
    }
    groups[count++] = static_cast<std::uint16_t>(value);
    i = end;
    if (i == text.size()) break;
    ++i;  // the ':'
    if (i == text.size()) return false;  // a trailing single ':'
    if (text[i] == ':') {
      if (gap >= 0) return false;  // a second "::"
      gap = count;
      ++i;
    }
  }
  if (gap < 0 ? count != 8 : count > 7) return false;
  const int zeros = 8 - count;
  for (int g = 0, k = 0; g < 8; ++g) {
    const bool in_gap = gap >= 0 && g >= gap && g < gap + zeros;
    const std::uint16_t value = in_gap ? 0 : groups[k++];
    out[2 * g] = static_cast<std::uint8_t>(value >> 8);
    out[2 * g + 1] = static_cast<std::uint8_t>(value);
  }
  return true;
}

}  // namespace detail::ip_text

inline result<ip_address> ip_address::parse(std::string_view text) noexcept {
  ip_address made;
  if (text.find(':') != std::string_view::npos) {
    if (!detail::ip_text::parse_v6(text, made.bytes_.data())) return errc::address_malformed;
    return made;
  }
  std::uint8_t v4[4] = {};
  if (!detail::ip_text::parse_v4(text, v4)) return errc::address_malformed;
  return from_bytes(std::span<const unsigned char>{v4, 4});
}

// basic_source_allowlist is a set of up to Capacity IPv4 and IPv6 CIDR
// ranges, stored inline (no heap), checked with contains(). Read it from
// configuration with parse(); use fw::source_allowlist (64 ranges) unless you
// need more. It is a value: copy it freely, share it read-only between
// threads without locking.
template <std::size_t Capacity>
class basic_source_allowlist {
  static_assert(Capacity >= 1, "fw::basic_source_allowlist<Capacity>: Capacity must be at least 1");

 public:
  static constexpr std::size_t capacity = Capacity;

  // parse reads ranges from text: entries separated by commas or whitespace
  // (spaces, tabs, newlines), '#' starting a comment to the end of its line.
  // An entry is "address/prefix" (prefix 0-32 for IPv4, 0-128 for IPv6) or a
  // bare address (a /32 or /128). IPv4 ranges also match IPv4-mapped IPv6
  // addresses. Errors: address_malformed, allowlist_prefix_malformed,
  // allowlist_host_bits_set, allowlist_too_many_ranges, allowlist_empty
  // (no entry at all: write "0.0.0.0/0, ::/0" to allow every source). When
  // error is given, it is filled with where the first bad entry is.
  [[nodiscard]] static result<basic_source_allowlist> parse(std::string_view text,
                                                                      allowlist_parse_error* error = nullptr) noexcept {
    basic_source_allowlist made;
    std::size_t i = 0, number = 0;
    const auto fail = [&](errc code, std::size_t offset, std::string_view entry) -> result<basic_source_allowlist> {
      if (error != nullptr) *error = {code, number, offset, entry};
      return code;
    };
    while (i < text.size()) {
      const char c = text[i];
      if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == ',') {
        ++i;
        continue;
      }
      if (c == '#') {
        while (i < text.size() && text[i] != '\n') ++i;
        continue;
      }
      const std::size_t start = i;
      while (i < text.size() && text[i] != ' ' && text[i] != '\t' && text[i] != '\r' && text[i] != '\n' &&
             text[i] != ',' && text[i] != '#')
        ++i;
      const std::string_view entry = text.substr(start, i - start);
      ++number;
      const std::size_t slash = entry.find('/');
      const std::string_view address_text = entry.substr(0, slash);
      const result<ip_address> address = ip_address::parse(address_text);
      if (!address) return fail(errc::address_malformed, start, entry);
      const bool v4 = address_text.find(':') == std::string_view::npos;
      const unsigned family_bits = v4 ? 32 : 128;
      unsigned prefix = family_bits;
      if (slash != std::string_view::npos) {
        const std::string_view digits = entry.substr(slash + 1);
        if (digits.empty() || digits.size() > 3 || (digits.size() > 1 && digits[0] == '0'))
          return fail(errc::allowlist_prefix_malformed, start, entry);
        prefix = 0;
        for (const char d : digits) {
          if (d < '0' || d > '9') return fail(errc::allowlist_prefix_malformed, start, entry);
          prefix = prefix * 10 + unsigned(d - '0');
        }
        if (prefix > family_bits) return fail(errc::allowlist_prefix_malformed, start, entry);
      }
      const result<ip_range> range = ip_range::make(*address, v4 ? 96 + prefix : prefix);
      if (!range) return fail(errc::allowlist_host_bits_set, start, entry);
      if (made.size_ == Capacity) return fail(errc::allowlist_too_many_ranges, start, entry);
      made.ranges_[made.size_++] = *range;
    }
    if (made.size_ == 0) return fail(errc::allowlist_empty, 0, text);
    return made;
  }

  // contains says whether address is in one of the ranges.
  [[nodiscard]] constexpr bool contains(const ip_address& address) const noexcept {
    for (std::size_t i = 0; i < size_; ++i)
      if (ranges_[i].contains(address)) return true;
    return false;
  }

  // contains(text) parses address text as ip_address::parse does; text that
  // is not an address is not in any range. Does not allocate.
  [[nodiscard]] bool contains(std::string_view address) const noexcept {
    const result<ip_address> parsed = ip_address::parse(address);
    return parsed && contains(*parsed);
  }

  [[nodiscard]] constexpr std::size_t size() const noexcept { return size_; }
  [[nodiscard]] constexpr std::span<const ip_range> ranges() const noexcept { return {ranges_.data(), size_}; }

 private:
  std::array<ip_range, Capacity> ranges_{};
  std::size_t size_ = 0;
};

// source_allowlist holds up to 64 ranges.
using source_allowlist = basic_source_allowlist<64>;

}  // namespace fiskil::webhooks
