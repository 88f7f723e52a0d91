// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
//
// A handler that throws: receive retracts the delivery and rethrows, so that
// the provider's retry is accepted afresh instead of being a duplicate.
// Only meaningful in builds with exceptions; without them the test is empty.
#include <doctest/doctest.h>

#include <fiskil/webhooks.hpp>

#include <stdexcept>
#include <string>

namespace fw = fiskil::webhooks;

#if defined(__cpp_exceptions)
TEST_CASE("a throwing handler: receive retracts and rethrows; the retry is accepted afresh") {
  const fw::signing_key key = fw::signing_key::from_base64("a2V5").value();
  fw::manual_clock clock{fw::parse_rfc3339("2026-11-20T09:05:00Z").value()};
  const std::string body =
      R"({"publish_time":"2026-11-20T09:00:00Z","message_id":"m-throw","data":{"event":"consent.revoked","consent_id":"c-t"}})";
  const std::string signature{fw::sign(key, body).view()};
  const fw::delivery_request request = fw::delivery_request::from_text("203.0.113.7", body, signature);

  for (const bool own_parser : {true, false}) {
    CAPTURE(own_parser);
    fw::receiver r = fw::receiver::create(fw::keyring{key}, fw::source_allowlist::parse("0.0.0.0/0").value(),
                                          {.clock = fw::clock{clock}})
                         .value();
    fw::parser p;
    bool thrown = false;
    try {
      const auto fail = [](const fw::consent_revoked&) { throw std::runtime_error("database down"); };
      if (own_parser) {
        (void)r.receive(p, request, fail);
      } else {
        (void)r.receive(request, fail);
      }
    } catch (const std::runtime_error& e) {
      thrown = std::string(e.what()) == "database down";
    }
    CHECK(thrown);
    CHECK_FALSE(r.store().contains("m-throw", clock.now()));
    CHECK_FALSE(r.consents().latest("c-t"));

    // The provider's retry: accepted and handled this time.
    int handled = 0;
    const fw::delivery retry = r.receive(p, request, [&](const fw::consent_revoked&) { ++handled; });
    CHECK(retry.outcome == fw::outcome::accepted);
    CHECK(handled == 1);
    CHECK(r.admit(p, request).outcome == fw::outcome::duplicate);
    // receive confirmed it when the handler returned: retract cannot undo that.
    CHECK_FALSE(r.retract(retry));
    CHECK(r.consents().latest("c-t")->change == fw::consent_change::revoked);
  }
}
#else
TEST_CASE("handler exceptions: not compiled (this build has no exceptions)") { CHECK(true); }
#endif
