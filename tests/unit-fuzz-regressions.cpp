// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
//
// Inputs the fuzzers (fuzz/) or the sanitizer build found, each kept as a
// test of the behaviour that was wrong. The fix is in the commit named.
#include <doctest/doctest.h>

#include <fiskil/webhooks.hpp>

#include <string_view>

namespace fw = fiskil::webhooks;

TEST_CASE("an empty body whose data() is null is json_empty (no memcpy from null)") {
  // libFuzzer passes (nullptr, 0) for the empty input; parse copied the body
  // with memcpy(buffer, nullptr, 0), undefined behaviour that UBSan reports.
  // Fixed in "core: parser: no memcpy from a null pointer for an empty body".
  fw::parser p;
  CHECK(p.parse(std::string_view{}).error() == fw::errc::json_empty);
  const fw::signing_key key = *fw::signing_key::from_base64("c2lnbmluZy1rZXk=");
  const fw::signature header = fw::sign(key, std::string_view{});
  CHECK(header.view() == fw::sign(key, "").view());
  CHECK(p.verify_and_parse(key, std::string_view{}, header.view()).error() == fw::errc::json_empty);
  CHECK(fw::verify(key, std::string_view{}, std::string_view{}).error() == fw::errc::signature_missing);
}

TEST_CASE("the year range applies to the year as written, not to the instant in UTC") {
  // fuzz/fuzz_rfc3339 found that an accepted timestamp need not round-trip
  // through UTC: the instant below is in 1677 UTC. That is the documented
  // rule (years outside 1678-2261 are refused, as written), and the instant
  // is far inside the 64-bit nanosecond range; the harness was corrected.
  using namespace std::chrono;
  const fw::result<fw::timestamp> t = fw::parse_rfc3339("1678-01-01T00:00:00+00:01");
  REQUIRE(t.has_value());
  CHECK(*t == sys_days{year{1677} / December / 31} + hours{23} + minutes{59});
  CHECK(fw::parse_rfc3339("1677-12-31T23:59:00Z").error() == fw::errc::publish_time_out_of_range);
  // A fraction of any length is malformed past nine digits, without overflow.
  CHECK(fw::parse_rfc3339("2262-99-31T23:59:59.9999101969996101345Z").error() == fw::errc::publish_time_malformed);
}
