// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
//
// A consent's state as the JetStream store keeps it in its key-value bucket:
// the confirmed state (the newest consent event whose message the stream
// acknowledged) and at most one pending event (claimed, not yet known to be
// in the stream). Pure functions only, no NATS: the store
// (jetstream_store.cpp) reads, decides with decide_consent and writes back
// with a compare-and-set. docs/jetstream.md, "Consent order", tells the
// protocol.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "storage.hpp"

namespace fiskil::gateway {

// consent_event is one consent event: what changed, when it was published,
// and the delivery that carried it.
struct consent_event {
  fw::consent_change change = fw::consent_change::received;
  std::int64_t publish_time_ns = 0;
  std::string message_id;

  [[nodiscard]] fw::consent_state state() const {
    return fw::consent_state{change, fw::timestamp{std::chrono::nanoseconds{publish_time_ns}}};
  }
  friend bool operator==(const consent_event&, const consent_event&) = default;
};

// consent_value is the bucket's value for one consent.
struct consent_value {
  // confirmed: the newest event whose message the stream holds. Every answer
  // given without publishing (duplicate, superseded, after_revocation) is
  // decided against this alone.
  std::optional<consent_event> confirmed;
  // pending: an event that won the compare-and-set and is being published;
  // pending_since_ns is when (wall clock, ns since the Unix epoch) it was
  // claimed.
  std::optional<consent_event> pending;
  std::int64_t pending_since_ns = 0;

  friend bool operator==(const consent_value&, const consent_value&) = default;
};

// encode_consent_value: "2|C|<c>|<t>|<len>:<id>|P|<c>|<t>|<since>|<len>:<id>",
// where each of the C and P parts is "-" when absent. Message ids are
// length-prefixed, so any bytes round-trip.
[[nodiscard]] std::string encode_consent_value(const consent_value& v);

// decode_consent_value reads encode_consent_value's format and the format
// before it ("<c> <t> <id>", written before the publish): such a legacy value
// is read as a pending event claimed at time 0, so the first event of that
// consent resolves it against the stream. nullopt for anything else.
[[nodiscard]] std::optional<consent_value> decode_consent_value(std::string_view text);

// consent_step is what the store does next for an event E of a consent.
enum class consent_step : std::uint8_t {
  answer,     // answer `answer` without publishing (judged against confirmed state)
  claim,      // E is newer than the confirmed state: compare-and-set pending := E, publish, confirm
  republish,  // E is the pending event itself (a retry): publish again (deduplicated), confirm
  wait,       // another event is pending and younger than the bound: retry shortly, else 503
  resolve,    // another event is pending and older than the bound: find its message in the stream,
              // then confirm it (present) or drop it (absent), and decide again
};

struct consent_decision {
  consent_step step = consent_step::answer;
  stored answer = stored::unavailable;  // for consent_step::answer
};

// decide_consent decides E against the bucket's value (nullopt: no value).
// pending_bound_ns: how long a pending event of another message is waited
// for before it is resolved against the stream.
[[nodiscard]] consent_decision decide_consent(const std::optional<consent_value>& value, const consent_event& e,
                                              std::int64_t now_ns, std::int64_t pending_bound_ns);

// with_pending is value with E pending since now_ns (the claim).
[[nodiscard]] consent_value with_pending(const std::optional<consent_value>& value, const consent_event& e,
                                         std::int64_t now_ns);
// confirm_pending is value with its pending event made the confirmed state
// and no pending event (the confirmation after the stream's acknowledgement,
// or a resolution that found the message in the stream).
[[nodiscard]] consent_value confirm_pending(const consent_value& value);
// drop_pending is value without its pending event (a failed publish, or a
// resolution that found no message).
[[nodiscard]] consent_value drop_pending(const consent_value& value);

}  // namespace fiskil::gateway
