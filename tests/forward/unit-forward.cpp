// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
//
// The forwarder's pure parts: the Standard Webhooks signature, Retry-After,
// the backoff, the verdicts, the URL (gateway/forward_*.cpp).
#include <doctest/doctest.h>

#include "forward_client.hpp"
#include "forward_schedule.hpp"
#include "forward_signing.hpp"

namespace gw = fiskil::gateway;
using namespace std::chrono_literals;

TEST_CASE("standard_signature matches the Standard Webhooks reference vector") {
  // The example of the Standard Webhooks specification (and of its
  // reference libraries' tests).
  std::string error;
  const auto key = gw::forward_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", error);
  REQUIRE(key.has_value());
  CHECK(gw::standard_signature(*key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330,
                               R"({"test": 2432232314})") ==
        "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
}

TEST_CASE("forward_key takes whsec_ or plain base64, trimmed, and refuses the rest") {
  std::string error;
  const auto prefixed = gw::forward_key("  whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n", error);
  const auto plain = gw::forward_key("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", error);
  REQUIRE(prefixed.has_value());
  REQUIRE(plain.has_value());
  CHECK(gw::standard_signature(*prefixed, "a", 1, "b") == gw::standard_signature(*plain, "a", 1, "b"));
  CHECK_FALSE(gw::forward_key("whsec_", error).has_value());
  CHECK_FALSE(gw::forward_key("not base64!", error).has_value());
  CHECK(error.find("not base64") == std::string::npos);  // never the secret
}

TEST_CASE("parse_retry_after: seconds and IMF-fixdate") {
  CHECK(gw::parse_retry_after("120", 0) == std::optional<std::chrono::seconds>(120s));
  CHECK(gw::parse_retry_after(" 3 ", 0) == std::optional<std::chrono::seconds>(3s));
  // 784111777 is Sun, 06 Nov 1994 08:49:37 GMT.
  CHECK(gw::parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", 784111777 - 30) ==
        std::optional<std::chrono::seconds>(30s));
  CHECK(gw::parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", 784111777 + 30) ==
        std::optional<std::chrono::seconds>(0s));
  CHECK(gw::parse_retry_after("Thu, 03 Dec 2026 07:00:10 GMT", 1796281200) ==
        std::optional<std::chrono::seconds>(10s));
  CHECK_FALSE(gw::parse_retry_after("-1", 0).has_value());
  CHECK_FALSE(gw::parse_retry_after("soon", 0).has_value());
  CHECK_FALSE(gw::parse_retry_after("Sun, 06 Foo 1994 08:49:37 GMT", 0).has_value());
  CHECK_FALSE(gw::parse_retry_after("", 0).has_value());
}

TEST_CASE("backoff_delay doubles from the base, with jitter between half and all, up to the max") {
  CHECK(gw::backoff_delay(1, 1s, 1h, 0.0) == 500ms);
  CHECK(gw::backoff_delay(1, 1s, 1h, 1.0) == 1s);
  CHECK(gw::backoff_delay(2, 1s, 1h, 1.0) == 2s);
  CHECK(gw::backoff_delay(5, 1s, 1h, 1.0) == 16s);
  CHECK(gw::backoff_delay(5, 1s, 1h, 0.5) == 12s);
  CHECK(gw::backoff_delay(40, 1s, 1h, 1.0) == 1h);
  CHECK(gw::backoff_delay(1000, 1s, 1h, 0.0) == 30min);
}

TEST_CASE("retry_delay honours Retry-After on 429 and 503 only") {
  CHECK(gw::retry_delay(429, 7s, 1, 1s, 1h, 1.0) == 7s);
  CHECK(gw::retry_delay(503, 7s, 1, 1s, 1h, 1.0) == 7s);
  CHECK(gw::retry_delay(500, 7s, 1, 1s, 1h, 1.0) == 1s);
  CHECK(gw::retry_delay(429, std::nullopt, 3, 1s, 1h, 1.0) == 4s);
  CHECK(gw::retry_delay(429, std::chrono::seconds{7200}, 1, 1s, 1h, 1.0) == 2h);  // not capped by the backoff's max
}

TEST_CASE("verdicts: only 2xx delivers, 410 pauses, the rest retries") {
  CHECK(gw::judge_status(200) == gw::verdict::delivered);
  CHECK(gw::judge_status(204) == gw::verdict::delivered);
  CHECK(gw::judge_status(299) == gw::verdict::delivered);
  CHECK(gw::judge_status(410) == gw::verdict::pause);
  for (const int s : {100, 301, 304, 400, 404, 409, 429, 500, 503})
    CHECK(gw::judge_status(s) == gw::verdict::retry);
  CHECK(gw::attempt_class_name(gw::classify_status(201)) == "2xx");
  CHECK(gw::attempt_class_name(gw::classify_status(404)) == "4xx");
  CHECK(gw::attempt_class_name(gw::classify_status(502)) == "5xx");
  CHECK(gw::attempt_class_name(gw::classify_status(302)) == "other");
  CHECK(gw::out_of_attempts(20, 20, 1s, 24h));
  CHECK_FALSE(gw::out_of_attempts(19, 20, 1s, 24h));
  CHECK(gw::out_of_attempts(1, 20, 24h, 24h));
}

TEST_CASE("forward_url parses http and https URLs") {
  gw::forward_url u;
  std::string error;
  REQUIRE(gw::forward_url::parse("http://127.0.0.1:8090/hooks?x=1", u, error));
  CHECK(u.host == "127.0.0.1");
  CHECK(u.port == "8090");
  CHECK(u.target == "/hooks?x=1");
  REQUIRE(gw::forward_url::parse("http://app.internal", u, error));
  CHECK(u.port == "80");
  CHECK(u.target == "/");
  REQUIRE(gw::forward_url::parse("http://[::1]:9000/x", u, error));
  CHECK(u.host == "::1");
  CHECK(u.port == "9000");
  CHECK_FALSE(u.tls);
  REQUIRE(gw::forward_url::parse("https://app/x", u, error));
  CHECK(u.tls);
  CHECK(u.host == "app");
  CHECK(u.port == "443");
  CHECK(u.target == "/x");
  REQUIRE(gw::forward_url::parse("https://app:8443", u, error));
  CHECK(u.port == "8443");
  CHECK_FALSE(gw::forward_url::parse("https://", u, error));
  CHECK(error.find("https://") != std::string::npos);
  CHECK_FALSE(gw::forward_url::parse("ftp://app/x", u, error));
  CHECK_FALSE(gw::forward_url::parse("http://:80/x", u, error));
  CHECK_FALSE(gw::forward_url::parse("http://app:99999/x", u, error));
  CHECK_FALSE(gw::forward_url::parse("http://user@app/x", u, error));
}
