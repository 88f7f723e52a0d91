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
#include "detail/double_buffer.hpp"
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
// handling it again could not change anything; each rests only on confirmed
// state (see basic_receiver::confirm). The others answer 4xx (or 503) and
// the provider retries, which helps only where the comment says so.
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
  in_progress,       // 503: a copy, or another event of the consent, is being kept
                     // now (admitted, not yet confirmed or retracted); a retry passes
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
    case outcome::unavailable:
    case outcome::in_progress: return 503;
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
    case outcome::in_progress: return "in_progress";
  }
  return "unknown";
}

// outcome_of is the outcome a receiver gives a delivery refused with error:
// accepted for an empty error_code; by error_kind for an fw::errc
// (signature: bad_signature, source: forbidden_source, envelope:
// bad_envelope, freshness: stale or too_early, in_progress: in_progress);
// too_large for body_too_large; unavailable (503, so that the provider retries) for
// out_of_memory, for a configuration or secret error (the gateway's to fix)
// and for an error of any other category (a journal that failed, say).
[[nodiscard]] inline outcome outcome_of(std::error_code error) noexcept {
  if (!error) return outcome::accepted;
  if (error.category() != error_category()) return outcome::unavailable;
  const detail::errc_info* info = detail::find_errc(error.value());
  if (info == nullptr) return outcome::unavailable;
  if (info->code == errc::body_too_large) return outcome::too_large;
  switch (info->kind) {
    case error_kind::signature: return outcome::bad_signature;
    case error_kind::source: return outcome::forbidden_source;
    case error_kind::envelope: return outcome::bad_envelope;
    case error_kind::freshness:
      return info->code == errc::publish_time_in_future ? outcome::too_early : outcome::stale;
    case error_kind::in_progress: return outcome::in_progress;
    case error_kind::secret:
    case error_kind::limit:
    case error_kind::configuration: break;
  }
  return outcome::unavailable;
}

// http_status(error) is the status to answer a request refused with error:
// http_status(outcome_of(error)), so 200 for an empty error_code.
[[nodiscard]] inline int http_status(std::error_code error) noexcept { return http_status(outcome_of(error)); }

// delivery_request is one HTTP request as the gateway received it. Views:
// body and signature must outlive the admit or receive call.
struct delivery_request {
  ip_address source;           // the peer's address (ip_address::from_sockaddr, from_bytes)
  std::string_view body;       // the raw body, exactly as received
  std::string_view signature;  // the X-Fiskil-Signature header value
  // source_malformed is set by from_text for address text that is not an
  // address; admit then refuses the request (forbidden_source,
  // errc::address_malformed).
  bool source_malformed = false;

  // from_text is a request whose peer address is text ("203.0.113.7",
  // "2001:db8::7"), parsed as ip_address::parse does. Does not allocate.
  [[nodiscard]] static delivery_request from_text(std::string_view address, std::string_view body,
                                                  std::string_view signature) noexcept {
    const result<ip_address> parsed = ip_address::parse(address);
    return delivery_request{parsed.value_or(ip_address{}), body, signature, !parsed};
  }
};

// delivery_token is what basic_receiver::confirm and retract need to settle
// an admitted delivery: the message_id's and the consent's tags (keyed
// hashes, private to the receiver's stores), the consent change and the
// publish_time. It owns no view, so it stays valid after the parser parses
// again; it is meaningful only to the receiver that made it. A small
// trivially copyable value.
class delivery_token {
 public:
  constexpr delivery_token() noexcept = default;

 private:
  template <std::size_t, std::size_t>
  friend class basic_receiver;

  std::uint64_t message_tag_ = 0;
  std::uint64_t consent_tag_ = 0;
  timestamp publish_time_{};
  consent_change change_ = consent_change::received;
  bool message_recorded_ = false;
  bool consent_recorded_ = false;
};

// retract_token is delivery_token's name in 1.x.
using retract_token [[deprecated("use fw::delivery_token")]] = delivery_token;

// delivery is the receiver's verdict on one request.
struct delivery {
  webhooks::outcome outcome = webhooks::outcome::bad_envelope;
  // error is why a delivery was refused (an fw::errc), empty for the 2xx
  // outcomes.
  std::error_code error;
  // event is the parsed delivery, present once it was found authentic and
  // well formed (every outcome from accepted to too_early, and bad_envelope
  // refusals of the receiver's own limits), when admit or receive was given
  // a parser. Its views point into that parser and are valid until its next
  // parse. Always empty from the receive overload without a parser.
  std::optional<webhooks::event> event;
  // key_index is the index in the receiver's keys() of the key that
  // authenticated the delivery; set once it was found authentic.
  std::optional<std::size_t> key_index;
  // token is what confirm and retract need; it owns no view.
  delivery_token token;
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

// thread_parser is the parser receive(request, ...) uses: one per thread,
// created on the thread's first delivery, reserved on its first parse
// (about 70 KiB, see fw::parser) and kept until the thread ends.
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
//   8. settle            confirm (kept) or retract (not kept); receive()
//                        confirms when the handler returns
//
// and returns one fw::delivery whose outcome maps to the HTTP status to
// answer. Keys and allowlist can be replaced while requests are in flight
// (replace_keys, replace_allowlist); the store and the tracker are kept.
//
// Threads: one receiver serves every thread; all its methods but moving are
// safe to call concurrently. Pass a parser per thread (or per coroutine in
// flight). No allocation after create() except each parser's reservation.
// Guide: docs/tutorial.md; design: docs/design.md.
template <std::size_t KeyCapacity, std::size_t RangeCapacity>
class basic_receiver {
 public:
  // create builds a receiver. Errors: keyring_empty, window_invalid (see
  // freshness::validate), store_capacity_invalid, out_of_memory.
  [[nodiscard]] static result<basic_receiver> create(const basic_keyring<KeyCapacity>& keys,
                                                     const basic_source_allowlist<RangeCapacity>& allowlist,
                                                     const receiver_options& options = {}) noexcept {
    if (keys.empty()) return errc::keyring_empty;
    if (const status window = options.freshness.validate(); !window) return window.error();
    result<idempotency_store> store = idempotency_store::create(
        {.capacity = options.message_capacity, .retention = options.freshness.retention()});
    if (!store) return store.error();
    result<consent_tracker> consents = consent_tracker::create(
        {.capacity = options.consent_capacity, .retention = options.freshness.retention()});
    if (!consents) return consents.error();
    return basic_receiver{keys, allowlist, options, std::move(*store), std::move(*consents)};
  }

  // admit runs steps 1 to 6 on request with p and records the delivery; it
  // does not dispatch. An accepted delivery is recorded *pending*: its
  // message_id (and, for a consent event, the consent's change) is held, but
  // a copy that arrives meanwhile is answered in_progress (503, retry), never
  // duplicate, and other events of that consent are in_progress too. Keep or
  // act on *result.event, then confirm(result.token) and answer
  // result.http_status(); if that failed, retract(result.token) and answer
  // 503 so that the provider's retry is accepted afresh. duplicate,
  // superseded and after_revocation are decided only against confirmed
  // state, and need neither call.
  [[nodiscard]] delivery admit(parser& p, const delivery_request& request) noexcept {
    delivery verdict;
    {
      // Steps 1 to 3 see one configuration.
      const auto config = config_.read();
      if (request.source_malformed) return refuse(verdict, errc::address_malformed);
      if (!config->allowlist.contains(request.source)) return refuse(verdict, errc::source_not_allowed);
      result<verified_event> parsed = p.verify_and_parse(config->keys, request.body, request.signature);
      if (!parsed) {
        // Past verification, the delivery is authentic: a parse error
        // (but not a size refusal, made before verifying) proves it.
        return refuse(verdict, parsed.error());
      }
      verdict.key_index = parsed->key_index;
      verdict.event.emplace(std::move(parsed->event));
    }
    const envelope& common = envelope_of(*verdict.event);

    const timestamp now = clock_.now();
    if (const status fresh = freshness_.check(common.publish_time, now); !fresh)
      return refuse(verdict, fresh.error());

    // A consent event that cannot be ordered is refused before its id is
    // recorded, so that the refusal is not turned into "duplicate" on retry.
    const bool is_consent = event_family_of(*verdict.event) == event_family::consent;
    if (is_consent && common.consent_id.empty()) return refuse(verdict, errc::consent_id_missing);
    if (is_consent && common.consent_id.size() > consents_.max_id_size())
      return refuse(verdict, errc::consent_id_too_long);

    delivery_token& token = verdict.token;
    token.message_tag_ = store_.tag_of(common.message_id);
    token.publish_time_ = common.publish_time;
    const result<remember_result> seen =
        store_.remember_tagged(common.message_id.size(), token.message_tag_, common.publish_time, now, true);
    if (!seen) return refuse(verdict, seen.error());
    verdict.evicted_unexpired = seen->evicted_unexpired;
    if (seen->verdict == sighting::duplicate) {
      verdict.outcome = outcome::duplicate;
      return verdict;
    }
    if (seen->verdict == sighting::in_progress) return refuse(verdict, errc::message_id_in_progress);
    token.message_recorded_ = true;

    if (is_consent) {
      token.consent_tag_ = consents_.tag_of(common.consent_id);
      token.change_ = consent_change_in(*verdict.event);
      const result<consent_step> step = consents_.observe_tagged(common.consent_id.size(), token.consent_tag_,
                                                                 token.change_, common.publish_time, now, true);
      if (!step) {  // consent_in_progress: forget the id, so that the retry is new
        (void)store_.forget_tagged(token.message_tag_, true);
        token.message_recorded_ = false;
        return refuse(verdict, step.error());
      }
      verdict.evicted_unexpired = verdict.evicted_unexpired || step->evicted_unexpired;
      if (step->verdict != consent_order::newer) {
        // Judged against confirmed state: answered 2xx without being kept,
        // so the id is confirmed now and a copy is a duplicate.
        (void)store_.confirm_tagged(token.message_tag_);
        token.message_recorded_ = false;
        verdict.outcome = step->verdict == consent_order::duplicate ? outcome::duplicate
                          : step->verdict == consent_order::stale   ? outcome::superseded
                                                                    : outcome::after_revocation;
        return verdict;
      }
      token.consent_recorded_ = true;
    }
    verdict.outcome = outcome::accepted;
    return verdict;
  }

  // receive is admit, then, for an accepted delivery, fw::dispatch of the
  // event to handlers (the same rules: best match wins, handlers return
  // void; delivery::handled says whether one took it), then confirm once the
  // handler returns. If a handler throws (in a build with exceptions),
  // receive retracts the delivery and rethrows, so that the provider's retry
  // is accepted afresh; answer 503.
  template <class... Handlers>
  delivery receive(parser& p, const delivery_request& request, Handlers&&... handlers) {
    delivery verdict = admit(p, request);
    if (verdict.outcome != outcome::accepted) return verdict;
#if defined(__cpp_exceptions)
    try {
      verdict.handled = dispatch(*verdict.event, std::forward<Handlers>(handlers)...);
    } catch (...) {
      (void)retract(verdict.token);
      throw;
    }
#else
    verdict.handled = dispatch(*verdict.event, std::forward<Handlers>(handlers)...);
#endif
    (void)confirm(verdict.token);
    return verdict;
  }

  // receive(request, handlers...) is receive with this thread's
  // thread_local parser. The delivery it returns has no event (it would
  // point into that hidden parser); the handlers saw it.
  template <class... Handlers>
  delivery receive(const delivery_request& request, Handlers&&... handlers) {
    delivery verdict = receive(detail::thread_parser(), request, std::forward<Handlers>(handlers)...);
    verdict.event.reset();
    return verdict;
  }

  // confirm settles an accepted delivery as kept: its message_id and its
  // consent change become confirmed state, on which later verdicts rest (a
  // copy is then duplicate, an older consent event superseded). Call it only
  // once the delivery is durable or acted on. Reads only the token: safe at
  // any time, on any thread. Returns false, doing nothing, when the token's
  // delivery is not pending (not accepted, already confirmed or retracted,
  // or expired). Pass only tokens this receiver made.
  bool confirm(const delivery_token& token) noexcept {
    if (!token.message_recorded_) return false;
    if (token.consent_recorded_) (void)consents_.confirm_tagged(token.consent_tag_, token.change_, token.publish_time_);
    return store_.confirm_tagged(token.message_tag_);
  }

  // confirm(delivery) is confirm(accepted.token).
  bool confirm(const delivery& accepted) noexcept { return confirm(accepted.token); }

  // retract settles an accepted delivery as not kept: forgets its pending
  // message_id and drops its pending consent change, so the consent is back
  // to exactly its last confirmed state and the provider's retry is accepted
  // afresh. Reads only the token: safe at any time, on any thread, after the
  // parser parsed other deliveries. Returns false, doing nothing, when the
  // token's delivery is not pending (a retract after confirm changes
  // nothing). Pass only tokens this receiver made.
  bool retract(const delivery_token& token) noexcept {
    if (!token.message_recorded_) return false;
    if (token.consent_recorded_) (void)consents_.retract_tagged(token.consent_tag_, token.change_, token.publish_time_);
    return store_.forget_tagged(token.message_tag_, true);
  }

  // retract(delivery) is retract(accepted.token); false for any outcome but
  // accepted.
  bool retract(const delivery& accepted) noexcept {
    return accepted.outcome == outcome::accepted && retract(accepted.token);
  }

  // replace_keys makes keys the keyring of every request that starts after
  // it returns; requests in flight finish with the keyring they started
  // with. The idempotency store and the consent tracker are kept. Safe from
  // any thread while requests are in flight. Error: keyring_empty (the
  // keyring in use is then unchanged).
  [[nodiscard]] status replace_keys(const basic_keyring<KeyCapacity>& keys) noexcept {
    if (keys.empty()) return errc::keyring_empty;
    config_.update([&keys](configuration& c) noexcept { c.keys = keys; });
    return {};
  }

  // replace_allowlist is replace_keys for the source allowlist.
  void replace_allowlist(const basic_source_allowlist<RangeCapacity>& allowlist) noexcept {
    config_.update([&allowlist](configuration& c) noexcept { c.allowlist = allowlist; });
  }

  // keys and allowlist return copies of the current configuration.
  [[nodiscard]] basic_keyring<KeyCapacity> keys() const noexcept { return config_.read()->keys; }
  [[nodiscard]] basic_source_allowlist<RangeCapacity> allowlist() const noexcept { return config_.read()->allowlist; }
  [[nodiscard]] const webhooks::freshness& freshness() const noexcept { return freshness_; }
  // store and consents give access to the counters (evicted_unexpired), to
  // direct queries and to a warm start (remember, observe); they are the
  // receiver's own, valid while it lives.
  [[nodiscard]] idempotency_store& store() noexcept { return store_; }
  [[nodiscard]] consent_tracker& consents() noexcept { return consents_; }

 private:
  struct configuration {
    basic_keyring<KeyCapacity> keys;
    basic_source_allowlist<RangeCapacity> allowlist;
  };

  basic_receiver(const basic_keyring<KeyCapacity>& keys, const basic_source_allowlist<RangeCapacity>& allowlist,
                 const receiver_options& options, idempotency_store&& store, consent_tracker&& consents) noexcept
      : config_(configuration{keys, allowlist}),
        freshness_(options.freshness),
        clock_(options.clock),
        store_(std::move(store)),
        consents_(std::move(consents)) {}

  static delivery refuse(delivery& verdict, std::error_code ec) noexcept {
    verdict.outcome = outcome_of(ec);
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

  detail::double_buffer<configuration> config_;
  webhooks::freshness freshness_;
  webhooks::clock clock_;
  idempotency_store store_;
  consent_tracker consents_;
};

// receiver is the receiver for an fw::keyring (4 keys) and an
// fw::source_allowlist (64 ranges).
using receiver = basic_receiver<keyring::capacity, source_allowlist::capacity>;

}  // namespace fiskil::webhooks
