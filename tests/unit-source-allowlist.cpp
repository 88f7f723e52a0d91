// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
#include <doctest/doctest.h>

// This header alone, to show that it is self-contained; against the single
// header (-Dsingle_include=true) there is only the whole library.
#if __has_include(<fiskil/webhooks/source_allowlist.hpp>)
#include <fiskil/webhooks/source_allowlist.hpp>
#else
#include <fiskil/webhooks.hpp>
#endif

#include <arpa/inet.h>

#include <array>
#include <cstring>
#include <optional>
#include <ostream>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

namespace fw = fiskil::webhooks;

namespace {

// inet_pton is the reference: what the C library reads, byte for byte.
std::optional<std::array<std::uint8_t, 16>> reference_parse(const std::string& text) {
  std::array<std::uint8_t, 16> bytes{};
  if (text.find(':') != std::string::npos) {
    if (inet_pton(AF_INET6, text.c_str(), bytes.data()) != 1) return std::nullopt;
    return bytes;
  }
  unsigned char v4[4];
  if (inet_pton(AF_INET, text.c_str(), v4) != 1) return std::nullopt;
  bytes[10] = bytes[11] = 0xff;
  std::memcpy(bytes.data() + 12, v4, 4);
  return bytes;
}

fw::ip_address address(std::string_view text) { return fw::ip_address::parse(text).value(); }

fw::allowlist_parse_error parse_error(std::string_view text) {
  fw::allowlist_parse_error where;
  const fw::result<fw::source_allowlist> parsed = fw::source_allowlist::parse(text, &where);
  CHECK_FALSE(parsed.has_value());
  CHECK(parsed.error() == where.code);
  return where;
}

}  // namespace

TEST_CASE("addresses parse as inet_pton reads them") {
  const char* valid[] = {
      "0.0.0.0", "255.255.255.255", "192.0.2.1", "10.0.0.1", "1.2.3.4",
      "::", "::1", "1::", "2001:db8::1", "2001:DB8:0:0:8:800:200C:417A", "ff01::101",
      "1:2:3:4:5:6:7:8", "1::8", "1:2:3:4:5:6:7::", "::2:3:4:5:6:7:8", "1::3:4:5:6:7:8",
      "0001:0002:0003:0004:0005:0006:0007:0008", "::ffff:192.0.2.1", "::ffff:c000:201",
      "::192.0.2.1", "64:ff9b::192.0.2.1", "1:2:3:4:5:6:1.2.3.4", "fe80::1:2:3:4",
  };
  for (const char* text : valid) {
    CAPTURE(text);
    const auto expected = reference_parse(text);
    REQUIRE(expected);
    const fw::result<fw::ip_address> parsed = fw::ip_address::parse(text);
    REQUIRE(parsed);
    CHECK(parsed->bytes() == *expected);
  }
  const char* invalid[] = {
      "", " ", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.-4", "01.2.3.4", "1.2.3.04", "1..3.4", "1.2.3.4 ",
      " 1.2.3.4", "1.2.3.4/32", "0x1.2.3.4", "1.2.3.4.", ".1.2.3.4", "1234.1.1.1", "a.b.c.d",
      ":", ":::", "1:::2", "1::2::3", ":1::", "1::2:", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7", "12345::",
      "g::1", "1:2:3:4:5:6:7:8::", "::1:2:3:4:5:6:7:8", "[::1]", "fe80::1%eth0", "::ffff:1.2.3",
      "::ffff:1.2.3.4:5", "1:2:3:4:5:6:7:1.2.3.4", "::ffff:01.2.3.4", "1.2.3.4::", ":1", "1:",
  };
  for (const char* text : invalid) {
    CAPTURE(text);
    CHECK(fw::ip_address::parse(text).error() == fw::errc::address_malformed);
  }
}

TEST_CASE("random address text: parse agrees with inet_pton") {
  // Strings built from the characters addresses are made of, so that most
  // are near misses: both parsers must accept and refuse the same ones.
  std::mt19937 random(20261120);
  const std::string alphabet = "0123456789abcdefABCDEF:.::..";
  int accepted = 0;
  for (int i = 0; i < 200000; ++i) {
    std::string text;
    const int length = 1 + static_cast<int>(random() % 20);
    for (int k = 0; k < length; ++k) text += alphabet[random() % alphabet.size()];
    // Bias towards valid shapes: dotted quads and colon groups.
    if (i % 3 == 0) text = std::to_string(random() % 300) + "." + std::to_string(random() % 300) + "." +
                           std::to_string(random() % 300) + "." + std::to_string(random() % 260);
    if (i % 5 == 0) text = "::ffff:" + text;
    CAPTURE(text);
    const auto expected = reference_parse(text);
    const fw::result<fw::ip_address> parsed = fw::ip_address::parse(text);
    REQUIRE(parsed.has_value() == expected.has_value());
    if (expected) {
      ++accepted;
      CHECK(parsed->bytes() == *expected);
    }
  }
  CHECK(accepted > 10000);
}

TEST_CASE("ip_address from bytes, IPv4-mapped forms") {
  const unsigned char v4[] = {192, 0, 2, 1};
  const fw::ip_address a = fw::ip_address::from_bytes(v4).value();
  CHECK(a.is_v4());
  CHECK(a == address("192.0.2.1"));
  CHECK(a == address("::ffff:192.0.2.1"));
  CHECK(a == address("::FFFF:C000:0201"));
  CHECK_FALSE(a == address("::192.0.2.1"));  // IPv4-compatible, deprecated: a different address
  CHECK_FALSE(address("::192.0.2.1").is_v4());
  CHECK_FALSE(address("2001:db8::1").is_v4());
  const unsigned char three[] = {1, 2, 3};
  CHECK(fw::ip_address::from_bytes(three).error() == fw::errc::address_malformed);
  std::array<unsigned char, 16> v6{};
  v6[15] = 1;
  CHECK(fw::ip_address::from_bytes(v6).value() == address("::1"));
}

TEST_CASE("ip_address::from_sockaddr reads sockaddr_in and sockaddr_in6, and refuses other families") {
  sockaddr_in v4{};
  v4.sin_family = AF_INET;
  v4.sin_port = htons(443);
  REQUIRE(inet_pton(AF_INET, "203.0.113.7", &v4.sin_addr) == 1);
  const fw::result<fw::ip_address> from_v4 = fw::ip_address::from_sockaddr(reinterpret_cast<const sockaddr*>(&v4));
  REQUIRE(from_v4);
  CHECK(*from_v4 == address("203.0.113.7"));
  CHECK(from_v4->is_v4());

  sockaddr_in6 v6{};
  v6.sin6_family = AF_INET6;
  REQUIRE(inet_pton(AF_INET6, "2001:db8::7", &v6.sin6_addr) == 1);
  CHECK(fw::ip_address::from_sockaddr(reinterpret_cast<const sockaddr*>(&v6)).value() == address("2001:db8::7"));
  // A dual-stack socket reports IPv4 peers IPv4-mapped: the same address.
  REQUIRE(inet_pton(AF_INET6, "::ffff:203.0.113.7", &v6.sin6_addr) == 1);
  CHECK(fw::ip_address::from_sockaddr(reinterpret_cast<const sockaddr*>(&v6)).value() == address("203.0.113.7"));

  sockaddr other{};
  other.sa_family = AF_UNIX;
  CHECK(fw::ip_address::from_sockaddr(&other).error() == fw::errc::address_malformed);
  CHECK(fw::ip_address::from_sockaddr(nullptr).error() == fw::errc::address_malformed);
}

TEST_CASE("contains: IPv4, IPv6 and IPv4-mapped IPv6 sources") {
  const fw::source_allowlist allow = fw::source_allowlist::parse(
      "# the provider's egress ranges (example addresses)\n"
      "203.0.113.0/24, 198.51.100.7\n"
      "2001:db8:1234::/48 2001:db8:ffff::42\n").value();
  CHECK(allow.size() == 4);
  CHECK(allow.contains("203.0.113.0"));
  CHECK(allow.contains("203.0.113.255"));
  CHECK_FALSE(allow.contains("203.0.114.0"));
  CHECK_FALSE(allow.contains("203.0.112.255"));
  CHECK(allow.contains("198.51.100.7"));
  CHECK_FALSE(allow.contains("198.51.100.8"));
  CHECK(allow.contains("2001:db8:1234::1"));
  CHECK(allow.contains("2001:db8:1234:ffff:ffff:ffff:ffff:ffff"));
  CHECK_FALSE(allow.contains("2001:db8:1235::"));
  CHECK(allow.contains("2001:db8:ffff::42"));
  CHECK_FALSE(allow.contains("2001:db8:ffff::43"));
  // A dual-stack socket reports IPv4 peers as IPv4-mapped IPv6.
  CHECK(allow.contains("::ffff:203.0.113.9"));
  CHECK(allow.contains("::ffff:cb00:7109"));
  CHECK_FALSE(allow.contains("::ffff:203.0.114.9"));
  // Neither the IPv4-compatible form nor NAT64 is the IPv4 address.
  CHECK_FALSE(allow.contains("::203.0.113.9"));
  CHECK_FALSE(allow.contains("64:ff9b::203.0.113.9"));
  // Text that is not an address is in no range.
  CHECK_FALSE(allow.contains(""));
  CHECK_FALSE(allow.contains("203.0.113.9:443"));
  CHECK_FALSE(allow.contains("localhost"));
  CHECK(allow.contains(address("203.0.113.77")));
}

TEST_CASE("ip_range::make refuses a prefix over 128 and host bits past the prefix") {
  const fw::ip_address network = fw::ip_address::parse("2001:db8::").value();
  CHECK(fw::ip_range::make(network, 128).has_value());
  CHECK(fw::ip_range::make(network, 129).error() == fw::errc::allowlist_prefix_malformed);
  CHECK(fw::ip_range::make(network, 256 + 32).error() == fw::errc::allowlist_prefix_malformed);  // not truncated to /32
  CHECK(fw::ip_range::make(network, 8).error() == fw::errc::allowlist_host_bits_set);
}

TEST_CASE("prefix lengths from /0 to the full width") {
  const fw::source_allowlist everything = fw::source_allowlist::parse("0.0.0.0/0, ::/0").value();
  CHECK(everything.contains("1.2.3.4"));
  CHECK(everything.contains("2001:db8::1"));
  const fw::source_allowlist v4_only = fw::source_allowlist::parse("0.0.0.0/0").value();
  CHECK(v4_only.contains("255.255.255.255"));
  CHECK(v4_only.contains("::ffff:1.2.3.4"));
  CHECK_FALSE(v4_only.contains("::1"));
  CHECK_FALSE(v4_only.contains("::ffff:0:0:1"));  // outside ::ffff:0:0/96

  for (unsigned prefix = 0; prefix <= 128; ++prefix) {
    CAPTURE(prefix);
    // The range 8000::/prefix (or ::/0): the first address past its end
    // differs from the network in bit `prefix` (counting from 0).
    const std::string text = (prefix == 0 ? std::string("::") : std::string("8000::")) + "/" + std::to_string(prefix);
    const fw::source_allowlist one = fw::source_allowlist::parse(text).value();
    std::array<unsigned char, 16> inside{};
    if (prefix > 0) inside[0] = 0x80;
    CHECK(one.contains(fw::ip_address::from_bytes(inside).value()));
    if (prefix == 0 || prefix == 128) continue;
    std::array<unsigned char, 16> last = inside, past = inside;
    for (unsigned bit = prefix; bit < 128; ++bit) last[bit / 8] |= static_cast<unsigned char>(0x80u >> (bit % 8));
    past[(prefix - 1) / 8] ^= static_cast<unsigned char>(0x80u >> ((prefix - 1) % 8));
    CHECK(one.contains(fw::ip_address::from_bytes(last).value()));
    CHECK_FALSE(one.contains(fw::ip_address::from_bytes(past).value()));
  }
  for (unsigned prefix = 1; prefix <= 32; ++prefix) {
    CAPTURE(prefix);
    const fw::source_allowlist one = fw::source_allowlist::parse("128.0.0.0/" + std::to_string(prefix)).value();
    CHECK(one.ranges()[0].prefix_length == 96 + prefix);
    CHECK(one.contains("128.0.0.0"));
    const std::uint32_t last_host = 0x80000000u | (prefix == 32 ? 0u : (0xffffffffu >> prefix));
    const unsigned char last[] = {static_cast<unsigned char>(last_host >> 24), static_cast<unsigned char>(last_host >> 16),
                                  static_cast<unsigned char>(last_host >> 8), static_cast<unsigned char>(last_host)};
    CHECK(one.contains(fw::ip_address::from_bytes(last).value()));
    CHECK_FALSE(one.contains("127.255.255.255"));
  }
}

TEST_CASE("malformed allowlist text names the entry, its position and the problem") {
  struct bad_case {
    const char* text;
    fw::errc code;
    std::size_t entry;
    std::size_t offset;
    const char* entry_text;
  };
  const bad_case cases[] = {
      {"", fw::errc::allowlist_empty, 0, 0, ""},
      {"  # only a comment\n ,, \n", fw::errc::allowlist_empty, 0, 0, "  # only a comment\n ,, \n"},
      {"10.0.0.0/8, 10.0.0.1/8", fw::errc::allowlist_host_bits_set, 2, 12, "10.0.0.1/8"},
      {"10.0.0.0/8\n192.168.1.0/33", fw::errc::allowlist_prefix_malformed, 2, 11, "192.168.1.0/33"},
      {"2001:db8::/129", fw::errc::allowlist_prefix_malformed, 1, 0, "2001:db8::/129"},
      {"10.0.0.0/", fw::errc::allowlist_prefix_malformed, 1, 0, "10.0.0.0/"},
      {"10.0.0.0/08", fw::errc::allowlist_prefix_malformed, 1, 0, "10.0.0.0/08"},
      {"10.0.0.0/-8", fw::errc::allowlist_prefix_malformed, 1, 0, "10.0.0.0/-8"},
      {"10.0.0.0/8/8", fw::errc::allowlist_prefix_malformed, 1, 0, "10.0.0.0/8/8"},
      {"10.0.0.0/x", fw::errc::allowlist_prefix_malformed, 1, 0, "10.0.0.0/x"},
      {"10.0.0.0/1000", fw::errc::allowlist_prefix_malformed, 1, 0, "10.0.0.0/1000"},
      {"/8", fw::errc::address_malformed, 1, 0, "/8"},
      {"10.0.0/8", fw::errc::address_malformed, 1, 0, "10.0.0/8"},
      {"1.2.3.4, 300.0.0.0/8", fw::errc::address_malformed, 2, 9, "300.0.0.0/8"},
      {"1.2.3.4;5.6.7.8", fw::errc::address_malformed, 1, 0, "1.2.3.4;5.6.7.8"},
      {"2001:db8::1::/64", fw::errc::address_malformed, 1, 0, "2001:db8::1::/64"},
      {"fe80::/10%eth0", fw::errc::allowlist_prefix_malformed, 1, 0, "fe80::/10%eth0"},
      {"fe80::%eth0/10", fw::errc::address_malformed, 1, 0, "fe80::%eth0/10"},
      {"[2001:db8::]/32", fw::errc::address_malformed, 1, 0, "[2001:db8::]/32"},
      {"example.com", fw::errc::address_malformed, 1, 0, "example.com"},
      {"2001:db8::1/64", fw::errc::allowlist_host_bits_set, 1, 0, "2001:db8::1/64"},
  };
  for (const bad_case& c : cases) {
    CAPTURE(c.text);
    const fw::allowlist_parse_error where = parse_error(c.text);
    CHECK(where.code == c.code);
    CHECK(where.entry == c.entry);
    CHECK(where.offset == c.offset);
    CHECK(where.text == c.entry_text);
    // A malformed address is of error_kind::source (a peer's address text
    // is refused with it too); every other allowlist error is configuration.
    CHECK(where.code == (c.code == fw::errc::address_malformed ? fw::error_kind::source
                                                               : fw::error_kind::configuration));
  }
  // Without an error out-parameter the code alone is returned.
  CHECK(fw::source_allowlist::parse("10.0.0.1/8").error() == fw::errc::allowlist_host_bits_set);
}

TEST_CASE("the number of ranges is bounded by the capacity") {
  std::string text;
  for (int i = 0; i < 64; ++i) text += "10.0." + std::to_string(i) + ".0/24\n";
  const fw::source_allowlist full = fw::source_allowlist::parse(text).value();
  CHECK(full.size() == 64);
  CHECK(full.contains("10.0.63.200"));
  CHECK_FALSE(full.contains("10.0.64.1"));
  const std::string one_too_many = text + "10.1.0.0/16";  // where.text points into it
  const fw::allowlist_parse_error where = parse_error(one_too_many);
  CHECK(where.code == fw::errc::allowlist_too_many_ranges);
  CHECK(where.entry == 65);
  CHECK(where.text == "10.1.0.0/16");
  // A larger capacity takes them.
  CHECK(fw::basic_source_allowlist<65>::parse(text + "10.1.0.0/16").value().size() == 65);
}

TEST_CASE("an allowlist is a trivially copyable value") {
  static_assert(std::is_trivially_copyable_v<fw::source_allowlist>);
  static_assert(std::is_trivially_copyable_v<fw::ip_address>);
  const fw::source_allowlist a = fw::source_allowlist::parse("192.0.2.0/24").value();
  const fw::source_allowlist copy = a;
  CHECK(copy.contains("192.0.2.5"));
}
