// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
#include <doctest/doctest.h>

#include <fiskil/webhooks.hpp>

#include <chrono>

namespace fw = fiskil::webhooks;
using namespace std::chrono;

namespace {

constexpr fw::timestamp at(int y, unsigned mo, unsigned d, int h, int mi, int s, std::int64_t ns = 0) {
  return sys_days{year{y} / month{mo} / day{d}} + hours{h} + minutes{mi} + seconds{s} + nanoseconds{ns};
}

// The parser is constexpr, so its cases hold at compile time as well.
static_assert(fw::detail::parse_rfc3339("2023-11-23T03:03:30.792Z").time ==
              at(2023, 11, 23, 3, 3, 30, 792'000'000));
static_assert(fw::detail::parse_rfc3339("2023-02-29T00:00:00Z").error == fw::errc::publish_time_out_of_range);

}  // namespace

TEST_CASE("the provider's timestamps parse to the instant they name") {
  CHECK(*fw::parse_rfc3339("2023-11-23T03:03:30.792Z") == at(2023, 11, 23, 3, 3, 30, 792'000'000));
  CHECK(*fw::parse_rfc3339("2026-11-04T20:15:53Z") == at(2026, 11, 4, 20, 15, 53));
  CHECK(*fw::parse_rfc3339("2026-11-04t20:15:53z") == at(2026, 11, 4, 20, 15, 53));
}

TEST_CASE("0 to 9 fractional digits keep their full precision") {
  CHECK(*fw::parse_rfc3339("2026-01-01T00:00:00.1Z") == at(2026, 1, 1, 0, 0, 0, 100'000'000));
  CHECK(*fw::parse_rfc3339("2026-01-01T00:00:00.000001Z") == at(2026, 1, 1, 0, 0, 0, 1'000));
  CHECK(*fw::parse_rfc3339("2026-01-01T00:00:00.123456789Z") == at(2026, 1, 1, 0, 0, 0, 123'456'789));
  CHECK(fw::parse_rfc3339("2026-01-01T00:00:00.1234567891Z").error() == fw::errc::publish_time_malformed);
  CHECK(fw::parse_rfc3339("2026-01-01T00:00:00.Z").error() == fw::errc::publish_time_malformed);
}

TEST_CASE("offsets are applied to reach UTC") {
  const fw::timestamp utc = at(2026, 11, 7, 3, 47, 46);
  CHECK(*fw::parse_rfc3339("2026-11-07T13:47:46+10:00") == utc);
  CHECK(*fw::parse_rfc3339("2026-11-06T21:17:46-06:30") == utc);
  CHECK(*fw::parse_rfc3339("2026-11-07T03:47:46+00:00") == utc);
  CHECK(*fw::parse_rfc3339("2026-11-07T03:47:46-00:00") == utc);
  // Crossing a date and a year boundary.
  CHECK(*fw::parse_rfc3339("2027-01-01T09:00:00+10:00") == at(2026, 12, 31, 23, 0, 0));
  CHECK(fw::parse_rfc3339("2026-11-07T03:47:46+24:00").error() == fw::errc::publish_time_out_of_range);
  CHECK(fw::parse_rfc3339("2026-11-07T03:47:46+10:60").error() == fw::errc::publish_time_out_of_range);
}

TEST_CASE("dates and times that do not exist are refused") {
  for (const char* text : {"2026-02-29T00:00:00Z", "2026-13-01T00:00:00Z", "2026-00-10T00:00:00Z",
                           "2026-04-31T00:00:00Z", "2026-01-00T00:00:00Z", "2026-01-01T24:00:00Z",
                           "2026-01-01T23:60:00Z", "2026-12-31T23:59:60Z", "1677-12-31T23:59:59Z",
                           "2262-01-01T00:00:00Z", "0000-01-01T00:00:00Z"}) {
    CAPTURE(text);
    CHECK(fw::parse_rfc3339(text).error() == fw::errc::publish_time_out_of_range);
  }
  CHECK(*fw::parse_rfc3339("2024-02-29T12:00:00Z") == at(2024, 2, 29, 12, 0, 0));
  CHECK(*fw::parse_rfc3339("2000-02-29T12:00:00Z") == at(2000, 2, 29, 12, 0, 0));
  CHECK(fw::parse_rfc3339("1900-02-29T12:00:00Z").error() == fw::errc::publish_time_out_of_range);
  CHECK(fw::parse_rfc3339("1678-01-01T00:00:00Z").has_value());
  CHECK(fw::parse_rfc3339("2261-12-31T23:59:59.999999999Z").has_value());
}

TEST_CASE("text that is not RFC 3339 is malformed") {
  for (const char* text : {"", "2026-11-04", "2026-11-04T20:15:53", "2026-11-04 20:15:53Z",
                           "2026/11/04T20:15:53Z", "26-11-04T20:15:53Z", "2026-11-4T20:15:53Z",
                           "2026-11-04T20:15:5Z", "2026-11-04T20:15:53+1000", "2026-11-04T20:15:53+10",
                           "2026-11-04T20:15:53+10:00:00", "2026-11-04T20:15:53ZZ", "2026-11-04T20:15:53 Z",
                           "2026-11-04T20:15:53.5", "+2026-11-04T20:15:53Z", "2026-11-04T20:15:53GMT",
                           "1700000000", "2026-1a-04T20:15:53Z", "2026-11-04T20:15:53\xef\xbc\xba"}) {
    CAPTURE(text);
    CHECK(fw::parse_rfc3339(text).error() == fw::errc::publish_time_malformed);
  }
}
