// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
//
// verify_and_parse + dispatch, the path a gateway runs, with fixed keys. The
// harness signs each mutated body itself (fw::sign under fixture key A), so
// that the parser is reached through the authentic path rather than stopping
// at the signature check.
//
// Properties:
//  - an authentic body gives exactly what parse gives on the same bytes
//    (same errc, or same event type and fields);
//  - the same body and header are refused as signature_mismatch under key B,
//    and with one bit of the body flipped, whatever the bytes: forged bytes
//    never reach the parser;
//  - through a keyring {B, A} it is accepted the same way and
//    its key_index is 1;
//  - dispatch calls exactly one handler, the one for the event's family, and
//    returns true; a dispatch with handlers for other families only returns
//    false; dispatch_exhaustive returns the handler's value.
#include <string>

#include "fuzz_support.hpp"

namespace {

namespace fw = fiskil::webhooks;

enum class handled_as { none, consent, identity, energy, banking, unknown };

handled_as expected_family(const fw::event& ev) {
  switch (std::visit([](const auto& e) { return std::remove_cvref_t<decltype(e)>::family; }, ev)) {
    case fw::event_family::consent: return handled_as::consent;
    case fw::event_family::identity: return handled_as::identity;
    case fw::event_family::energy: return handled_as::energy;
    case fw::event_family::banking: return handled_as::banking;
    case fw::event_family::unknown: return handled_as::unknown;
  }
  return handled_as::none;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body = fuzz::as_text(data, size);
  const fw::signing_key& a = fuzz::key_a();
  const fw::signing_key& b = fuzz::key_b();
  const fw::signature header = fw::sign(a, body);
  static fw::parser gateway;
  static fw::parser direct;

  const fw::result<fw::event> authentic = gateway.verify_and_parse(a, body, header.view());
  const fw::result<fw::event> parsed = direct.parse(body);
  FUZZ_CHECK(authentic.has_value() == parsed.has_value());
  if (!authentic) {
    FUZZ_CHECK(authentic.error() == parsed.error());
    FUZZ_CHECK(authentic.error() != fw::error_kind::signature);
  } else {
    FUZZ_CHECK(authentic->index() == parsed->index());
    const fw::envelope& x = fw::envelope_of(*authentic);
    const fw::envelope& y = fw::envelope_of(*parsed);
    FUZZ_CHECK(x.publish_time == y.publish_time && x.message_id == y.message_id && x.consent_id == y.consent_id &&
               x.end_user_id == y.end_user_id && x.client_id == y.client_id && x.institution_id == y.institution_id);
    FUZZ_CHECK(fw::event_name(*authentic) == fw::event_name(*parsed));

    // Exactly one handler runs, the one for the event's family.
    handled_as seen = handled_as::none;
    int calls = 0;
    const auto mark = [&](handled_as as) {
      seen = as;
      ++calls;
    };
    FUZZ_CHECK(fw::dispatch(
        *authentic, [&](fw::consent_event auto const&) { mark(handled_as::consent); },
        [&](const fw::identity_sync_completed&) { mark(handled_as::identity); },
        [&](fw::energy_sync_event auto const&) { mark(handled_as::energy); },
        [&](fw::banking_sync_event auto const& e) {
          if constexpr (fw::with_account_ids<decltype(e)>) {
            std::size_t total = 0;  // unescaped ids are never longer than the text that holds them
            for (std::string_view id : e.account_ids) total += id.size();
            FUZZ_CHECK(total <= body.size());
          }
          mark(handled_as::banking);
        },
        [&](const fw::unknown_event&) { mark(handled_as::unknown); }));
    FUZZ_CHECK(calls == 1);
    FUZZ_CHECK(seen == expected_family(*authentic));
    const bool consent_only = fw::dispatch(*authentic, [&](fw::consent_event auto const&) { ++calls; });
    FUZZ_CHECK(consent_only == (seen == handled_as::consent));
    FUZZ_CHECK(fw::dispatch_exhaustive(*authentic, [](const auto& e) { return e.message_id.size(); }) ==
               x.message_id.size());
  }

  // The same bytes are forged under key B, and a flipped bit is forged under
  // A (a body over the size limit is refused for that first, unhashed).
  const std::error_code forged = body.size() > gateway.options().max_body_size
                                     ? std::error_code{fw::errc::body_too_large}
                                     : std::error_code{fw::errc::signature_mismatch};
  FUZZ_CHECK(gateway.verify_and_parse(b, body, header.view()).error() == forged);
  const fw::keyring ring{b, a};
  const fw::result<fw::verified_event> through_ring = gateway.verify_and_parse(ring, body, header.view());
  FUZZ_CHECK(through_ring.has_value() == authentic.has_value());
  if (through_ring) FUZZ_CHECK(through_ring->key_index == 1);
  if (!through_ring) FUZZ_CHECK(through_ring.error() == parsed.error());
  if (!body.empty()) {
    std::string tampered(body);
    const std::size_t pick = fuzz::mix(body);
    tampered[pick % tampered.size()] =
        static_cast<char>(tampered[pick % tampered.size()] ^ (1u << ((pick >> 16) % 8)));
    FUZZ_CHECK(gateway.verify_and_parse(a, tampered, header.view()).error() == forged);
    FUZZ_CHECK(gateway.verify_and_parse(ring, tampered, header.view()).error() == forged);
  }
  return 0;
}
