// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
//
// The receiver: everything a gateway does with one delivery, in order, with
// one outcome that maps to the HTTP status the provider should see.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <system_error>
#include <utility>

#include "consent_tracker.hpp"
#include "dispatch.hpp"
#include "error.hpp"
#include "events.hpp"
#include "freshness.hpp"
#include "idempotency_store.hpp"
#include "parser.hpp"
#include "result.hpp"
#include "source_allowlist.hpp"
#include "time.hpp"
#include "verify.hpp"

namespace fiskil::webhooks {

// outcome is what a receiver did with one delivery. The first four answer
// 2xx, so that the provider stops retrying: the delivery was handled, or
// handling it again could not change anything. The others answer 4xx (or 503)
// and the provider retries, which helps only where the comment says so.
enum class outcome : std::uint8_t {
  accepted,          // 200: authentic, fresh, first sighting, in order; handlers ran
  duplicate,         // 200: this message_id was received before: already handled
  superseded,        // 200: a consent event older than the consent's latest applied state
  after_revocation,  // 200: a consent event for a consent already revoked (revocation is final)
  stale,             // 422: publish_time older than max_age: a replay, or later than any retry
  too_early,         // 422: publish_time beyond max_future_skew: a clock is off; a retry may pass
  forbidden_source,  // 403: the sender's address is not in the allowlist
  bad_signature,     // 401: X-Fiskil-Signature missing, malformed or not the body's MAC
  bad_envelope,      // 400: authentic but not a valid envelope (or an id over the limits)
  too_large,         // 413: body over the parser's max_body_size
  unavailable,       // 503: the parser could not reserve memory; a retry may pass
};

// http_status is the status to answer the provider with for an outcome.
[[nodiscard]] constexpr int http_status(outcome o) noexcept {
  switch (o) {
    case outcome::accepted:
    case outcome::duplicate:
    case outcome::superseded:
    case outcome::after_revocation: return 200;
    case outcome::stale:
    case outcome::too_early: return 422;
    case outcome::forbidden_source: return 403;
    case outcome::bad_signature: return 401;
    case outcome::bad_envelope: return 400;
    case outcome::too_large: return 413;
    case outcome::unavailable: return 503;
  }
  return 500;
}

// outcome_name is the outcome's enumerator name, for logs and metrics.
[[nodiscard]] constexpr std::string_view outcome_name(outcome o) noexcept {
  switch (o) {
    case outcome::accepted: return "accepted";
    case outcome::duplicate: return "duplicate";
    case outcome::superseded: return "superseded";
    case outcome::after_revocation: return "after_revocation";
    case outcome::stale: return "stale";
    case outcome::too_early: return "too_early";
    case outcome::forbidden_source: return "forbidden_source";
    case outcome::bad_signature: return "bad_signature";
    case outcome::bad_envelope: return "bad_envelope";
    case outcome::too_large: return "too_large";
    case outcome::unavailable: return "unavailable";
  }
  return "unknown";
}

// delivery_request is one HTTP request as the gateway received it.
struct delivery_request {
  std::string_view source_address;  // the peer's IP address as text ("203.0.113.7", "2001:db8::7")
  std::string_view body;            // the raw body, exactly as received
  std::string_view signature;       // the X-Fiskil-Signature header value
};

// delivery is the receiver's verdict on one request.
struct delivery {
  webhooks::outcome outcome = webhooks::outcome::bad_envelope;
  // error is why a delivery was refused (an fw::errc), empty for the 2xx
  // outcomes.
  std::error_code error;
  // event is the parsed delivery, present once it was found authentic and
  // well formed: for every outcome from accepted to too_early, and for
  // bad_envelope refusals of the receiver's own limits (message_id_too_long,
  // consent_id_missing, consent_id_too_long). Its views
  // point into the parser that parsed it and are valid until that parser's
  // next parse: with the thread_local parser, until this thread's next call
  // to receive or admit.
  std::optional<webhooks::event> event;
  // handled is true when receive() called a handler for the event.
  bool handled = false;
  // evicted_unexpired is true when recording this delivery pushed an
  // unexpired entry out of the idempotency store or the consent tracker:
  // they are too small for the traffic (their counters say how often).
  bool evicted_unexpired = false;

  [[nodiscard]] int http_status() const noexcept { return webhooks::http_status(outcome); }
};

// receiver_options configures a receiver.
struct receiver_options {
  // freshness is the window publish_time must fall in. The idempotency
  // store and the consent tracker remember ids for its retention() (max_age
  // plus max_future_skew), so that a replay is always stale or a duplicate.
  webhooks::freshness freshness{};
  // message_capacity sizes the idempotency store: 1.5 times the deliveries
  // expected within one retention (70 minutes by default).
  std::size_t message_capacity = std::size_t{1} << 16;
  // consent_capacity sizes the consent tracker: 1.5 times the consents with
  // events within one retention.
  std::size_t consent_capacity = std::size_t{1} << 14;
  // clock reads the time once per request; the system clock by default.
  webhooks::clock clock{};
};

namespace detail {

// thread_parser is the parser receive() and admit() use when not given one:
// one per thread, created on the thread's first delivery, reserved on its
// first parse (some 900 KiB, see fw::parser) and kept until the thread ends.
inline parser& thread_parser() noexcept {
  thread_local parser per_thread;
  return per_thread;
}

}  // namespace detail

// basic_receiver composes the checks a gateway makes on each delivery, in
// this order, each one only on what passed the one before:
//
//   1. source allowlist  the peer's address must be in a configured range
//   2. verify            X-Fiskil-Signature must be the body's MAC under a key
//   3. parse             authentic bytes only, into a typed fw::event
//   4. freshness         publish_time within [now - max_age, now + skew]
//   5. idempotency       the message_id must be a first sighting
//   6. consent ordering  consent events must be newer than the consent's
//                        latest applied state, and not after its revocation
//   7. dispatch          receive() calls your handlers (fw::dispatch rules)
//
// and returns one fw::delivery whose outcome maps to the HTTP status to
// answer (http_status()). It owns its keyring, allowlist, idempotency store
// and consent tracker; the store and the tracker are sized from options and
// remember ids for options.freshness.retention(), which is what makes every
// replay either stale or a duplicate.
//
// Threads: one receiver serves every thread of the gateway; all its methods
// are safe to call concurrently. Parsing needs a parser per thread: pass your
// own (receive(parser, request, ...)) or let the receiver use a thread_local
// one (receive(request, ...)), made with default parser_options. The
// thread_local parser is the convenient choice for thread-per-request
// gateways; pass your own when you need other parser_options, or when the
// gateway's threads are many and short-lived (each thread's first delivery
// reserves a parser's storage).
//
// No allocation after create() except each parser's one-time reservation.
// Moving a receiver is not thread-safe; move it only before sharing it.
template <std::size_t KeyCapacity, std::size_t RangeCapacity>
class basic_receiver {
 public:
  // create builds a receiver. Errors: keyring_empty, window_invalid (see
  // freshness::validate), store_capacity_invalid, out_of_memory.
  [[nodiscard]] static result<basic_receiver> create(const basic_keyring<KeyCapacity>& keys,
                                                     const basic_source_allowlist<RangeCapacity>& allowlist,
                                                     const receiver_options& options = {}) noexcept {
    if (keys.empty()) return errc::keyring_empty;
    if (const std::error_code ec = options.freshness.validate()) return ec;
    result<idempotency_store> store = idempotency_store::create(
        {.capacity = options.message_capacity, .retention = options.freshness.retention()});
    if (!store) return store.error();
    result<consent_tracker> consents = consent_tracker::create(
        {.capacity = options.consent_capacity, .retention = options.freshness.retention()});
    if (!consents) return consents.error();
    return basic_receiver{keys, allowlist, options, std::move(*store), std::move(*consents)};
  }

  // admit runs steps 1 to 6 on request with p, and records the delivery as
  // seen; it does not dispatch. When the outcome is accepted, act on
  // *result.event, then answer result.http_status(); if acting on it failed,
  // call retract(result) and answer 503 so that the provider retries. A
  // retry that arrives before that is already a duplicate: acting must not
  // outlast the provider's request timeout (queue slow work durably).
  [[nodiscard]] delivery admit(parser& p, const delivery_request& request) noexcept {
    delivery verdict;
    const result<ip_address> source = ip_address::parse(request.source_address);
    if (!source || !allowlist_.contains(*source))
      return refuse(verdict, outcome::forbidden_source, source ? errc::source_not_allowed : errc::address_malformed);

    result<event> parsed = p.verify_and_parse(keys_, request.body, request.signature);
    if (!parsed) {
      const std::error_code ec = parsed.error();
      if (ec == error_kind::signature || ec == errc::keyring_empty) return refuse(verdict, outcome::bad_signature, ec);
      if (ec == errc::body_too_large) return refuse(verdict, outcome::too_large, ec);
      if (ec == errc::out_of_memory) return refuse(verdict, outcome::unavailable, ec);
      return refuse(verdict, outcome::bad_envelope, ec);
    }
    verdict.event.emplace(std::move(*parsed));
    const envelope& common = envelope_of(*verdict.event);

    const timestamp now = clock_.now();
    if (const std::error_code ec = freshness_.check(common.publish_time, now))
      return refuse(verdict, ec == errc::publish_time_stale ? outcome::stale : outcome::too_early, ec);

    // A consent event that cannot be ordered is refused before its id is
    // recorded, so that the refusal is not turned into "duplicate" on retry.
    const bool is_consent = event_family_of(*verdict.event) == event_family::consent;
    if (is_consent && common.consent_id.empty()) return refuse(verdict, outcome::bad_envelope, errc::consent_id_missing);
    if (is_consent && common.consent_id.size() > consents_.max_id_size())
      return refuse(verdict, outcome::bad_envelope, errc::consent_id_too_long);

    const result<remember_result> seen = store_.remember(common.message_id, common.publish_time, now);
    if (!seen) return refuse(verdict, outcome::bad_envelope, seen.error());
    verdict.evicted_unexpired = seen->evicted_unexpired;
    if (seen->verdict == sighting::duplicate) {
      verdict.outcome = outcome::duplicate;
      return verdict;
    }

    if (is_consent) {
      const result<consent_step> step = consents_.observe(common.consent_id, consent_change_in(*verdict.event),
                                                          common.publish_time, now);
      if (!step) return refuse(verdict, outcome::bad_envelope, step.error());  // not reached: checked above
      verdict.evicted_unexpired = verdict.evicted_unexpired || step->evicted_unexpired;
      switch (step->verdict) {
        case consent_order::newer: break;
        case consent_order::duplicate: verdict.outcome = outcome::duplicate; return verdict;
        case consent_order::stale: verdict.outcome = outcome::superseded; return verdict;
        case consent_order::after_revocation: verdict.outcome = outcome::after_revocation; return verdict;
      }
    }
    verdict.outcome = outcome::accepted;
    return verdict;
  }

  // admit(request) is admit with this thread's thread_local parser.
  [[nodiscard]] delivery admit(const delivery_request& request) noexcept {
    return admit(detail::thread_parser(), request);
  }

  // receive is admit, then, for an accepted delivery, fw::dispatch of the
  // event to handlers (the same rules: best match wins, handlers return
  // void; delivery::handled says whether one took it). Handlers must not
  // fail: if yours can, use admit, act, and retract on failure.
  template <class... Handlers>
  delivery receive(parser& p, const delivery_request& request, Handlers&&... handlers) {
    delivery verdict = admit(p, request);
    if (verdict.outcome == outcome::accepted) verdict.handled = dispatch(*verdict.event, std::forward<Handlers>(handlers)...);
    return verdict;
  }

  // receive(request, handlers...) is receive with this thread's
  // thread_local parser.
  template <class... Handlers>
  delivery receive(const delivery_request& request, Handlers&&... handlers) {
    return receive(detail::thread_parser(), request, std::forward<Handlers>(handlers)...);
  }

  // retract undoes what admit recorded for an accepted delivery: forgets its
  // message_id and, for a consent event, restores the consent's previous
  // state if this event is still its latest. The provider's retry is then
  // accepted afresh. Call it before the parser that parsed the delivery
  // parses again (with the thread_local parser: on the same thread, before
  // its next receive or admit). Returns false, doing nothing, for any
  // other outcome.
  bool retract(const delivery& accepted) noexcept {
    if (accepted.outcome != outcome::accepted || !accepted.event) return false;
    const envelope& common = envelope_of(*accepted.event);
    if (event_family_of(*accepted.event) == event_family::consent)
      (void)consents_.retract(common.consent_id, consent_change_in(*accepted.event), common.publish_time);
    return store_.forget(common.message_id);
  }

  [[nodiscard]] const basic_keyring<KeyCapacity>& keys() const noexcept { return keys_; }
  [[nodiscard]] const basic_source_allowlist<RangeCapacity>& allowlist() const noexcept { return allowlist_; }
  [[nodiscard]] const webhooks::freshness& freshness() const noexcept { return freshness_; }
  // store and consents give access to the counters (evicted_unexpired) and
  // to direct queries; they are the receiver's own, valid while it lives.
  [[nodiscard]] idempotency_store& store() noexcept { return store_; }
  [[nodiscard]] consent_tracker& consents() noexcept { return consents_; }

 private:
  basic_receiver(const basic_keyring<KeyCapacity>& keys, const basic_source_allowlist<RangeCapacity>& allowlist,
                 const receiver_options& options, idempotency_store&& store, consent_tracker&& consents) noexcept
      : keys_(keys),
        allowlist_(allowlist),
        freshness_(options.freshness),
        clock_(options.clock),
        store_(std::move(store)),
        consents_(std::move(consents)) {}

  static delivery refuse(delivery& verdict, outcome o, std::error_code ec) noexcept {
    verdict.outcome = o;
    verdict.error = ec;
    return std::move(verdict);
  }

  static event_family event_family_of(const event& ev) noexcept {
    return std::visit([](const auto& e) { return std::remove_cvref_t<decltype(e)>::family; }, ev);
  }

  static consent_change consent_change_in(const event& ev) noexcept {
    return std::visit(
        []<class Event>(const Event& e) {
          (void)e;
          if constexpr (consent_event<Event>) {
            return consent_change_of<Event>;
          } else {
            return consent_change::updated;  // not reached: called for consent events only
          }
        },
        ev);
  }

  basic_keyring<KeyCapacity> keys_;
  basic_source_allowlist<RangeCapacity> allowlist_;
  webhooks::freshness freshness_;
  webhooks::clock clock_;
  idempotency_store store_;
  consent_tracker consents_;
};

// receiver is the receiver for an fw::keyring (4 keys) and an
// fw::source_allowlist (64 ranges).
using receiver = basic_receiver<keyring::capacity, source_allowlist::capacity>;

}  // namespace fiskil::webhooks
