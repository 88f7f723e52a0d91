// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
//
// fw::http_status(std::error_code) and fw::outcome_of: an HTTP status for
// every errc, consistent with the receiver's outcomes.
#include <doctest/doctest.h>

#include <fiskil/webhooks.hpp>

#include <string>
#include <system_error>

namespace fw = fiskil::webhooks;
using namespace std::chrono_literals;

namespace {

// expected_status is the contract, written out per error_kind: what each
// kind of refusal must answer.
int expected_status(fw::errc code) {
  const std::error_code ec = code;
  if (code == fw::errc::body_too_large) return 413;
  if (ec == fw::error_kind::signature) return 401;
  if (ec == fw::error_kind::source) return 403;
  if (ec == fw::error_kind::envelope) return 400;
  if (ec == fw::error_kind::freshness) return 422;
  // The rest is ours to fix (configuration, secrets, memory, limits): 503,
  // so that the provider retries once it is fixed.
  return 503;
}

}  // namespace

TEST_CASE("http_status covers every errc and agrees with the outcome mapping") {
  int seen = 0;
  for (int value = 1; value <= static_cast<int>(fw::detail::errc_count); ++value) {
    const auto code = static_cast<fw::errc>(value);
    const std::error_code ec = code;
    CAPTURE(ec.message());
    const fw::outcome o = fw::outcome_of(ec);
    CHECK(fw::http_status(ec) == fw::http_status(o));
    CHECK(fw::http_status(ec) == expected_status(code));
    // An error never maps to a 2xx: only success does.
    CHECK(fw::http_status(ec) >= 400);
    CHECK(o != fw::outcome::accepted);
    ++seen;
  }
  CHECK(seen == static_cast<int>(fw::errc::consent_in_progress));
  // The ones the README's first example names.
  CHECK(fw::http_status(fw::errc::body_too_large) == 413);
  CHECK(fw::http_status(fw::errc::out_of_memory) == 503);
  CHECK(fw::http_status(fw::errc::source_not_allowed) == 403);
  CHECK(fw::http_status(fw::errc::address_malformed) == 403);
  CHECK(fw::outcome_of(fw::errc::publish_time_stale) == fw::outcome::stale);
  CHECK(fw::outcome_of(fw::errc::publish_time_in_future) == fw::outcome::too_early);
  // Success, and errors of other categories (a journal's I/O error, say).
  CHECK(fw::http_status(std::error_code{}) == 200);
  CHECK(fw::outcome_of(std::error_code{}) == fw::outcome::accepted);
  CHECK(fw::http_status(std::make_error_code(std::errc::io_error)) == 503);
  CHECK(fw::http_status(std::error_code{9999, fw::error_category()}) == 503);
}

TEST_CASE("source errors have a kind of their own, apart from signature errors") {
  CHECK(std::error_code(fw::errc::source_not_allowed) == fw::error_kind::source);
  CHECK(std::error_code(fw::errc::address_malformed) == fw::error_kind::source);
  CHECK_FALSE(std::error_code(fw::errc::source_not_allowed) == fw::error_kind::signature);
  CHECK(fw::make_error_condition(fw::error_kind::source).message() == "the delivery's source address is not allowed");
}

TEST_CASE("every refusal by the receiver has outcome == outcome_of(error)") {
  const fw::signing_key key = fw::signing_key::from_base64("c2VjcmV0LWtleS1mb3ItdGVzdHM=").value();
  fw::manual_clock clock{fw::parse_rfc3339("2026-11-20T09:05:00Z").value()};
  fw::receiver receiver = fw::receiver::create(fw::keyring{key}, fw::source_allowlist::parse("203.0.113.0/24").value(),
                                               {.clock = fw::clock{clock}})
                              .value();
  fw::parser p{{.max_body_size = 4096}};
  // The request's views point into these; each request is admitted before
  // the next is made.
  std::string keep_body, keep_signature;
  const auto signed_request = [&](const std::string& body, const char* source = "203.0.113.7") {
    keep_body = body;
    keep_signature = std::string(fw::sign(key, body).view());
    return fw::delivery_request::from_text(source, keep_body, keep_signature);
  };
  const std::string good = R"({"publish_time":"2026-11-20T09:00:00Z","message_id":"m","data":{"event":"x.y"}})";
  std::size_t i = 0;
  const auto check = [&](const fw::delivery_request& r, fw::outcome want) {
    const fw::delivery d = receiver.admit(p, r);
    CHECK(d.outcome == want);
    CHECK(d.error);
    CHECK(fw::outcome_of(d.error) == d.outcome);
    CHECK(fw::http_status(d.error) == d.http_status());
    ++i;
  };
  check(signed_request(good, "198.51.100.1"), fw::outcome::forbidden_source);
  check(signed_request(good, "not an address"), fw::outcome::forbidden_source);
  check(fw::delivery_request::from_text("203.0.113.7", good, "AAAA"), fw::outcome::bad_signature);
  check(signed_request(R"({"message_id":"m","data":{}})"), fw::outcome::bad_envelope);
  check(signed_request(R"({"publish_time":"2026-11-20T07:00:00Z","message_id":"m1","data":{}})"), fw::outcome::stale);
  check(signed_request(R"({"publish_time":"2026-11-20T10:00:00Z","message_id":"m2","data":{}})"),
        fw::outcome::too_early);
  check(signed_request(std::string(5000, ' ')), fw::outcome::too_large);
  CHECK(i == 7);
  // And success: an empty error, 200.
  const fw::delivery ok = receiver.admit(p, signed_request(good));
  CHECK(ok.outcome == fw::outcome::accepted);
  CHECK(fw::outcome_of(ok.error) == fw::outcome::accepted);
}
