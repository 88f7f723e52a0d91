// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
//
// The gateway's durable store: where an accepted delivery is kept before the
// provider is answered 200. Two implementations: the embedded SQLite journal
// (journal.hpp) and NATS JetStream (jetstream_store.hpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include <fiskil/webhooks.hpp>

namespace fiskil::gateway {

namespace fw = ::fiskil::webhooks;

// record is one delivery the receiver admitted, owned, ready to be kept.
struct record {
  std::string message_id;
  std::string event_name;  // the envelope's data.event, as sent (also for unknown types)
  std::string consent_id;  // empty unless consent_change is set
  std::optional<fw::consent_change> consent_change;  // set for consent.* events
  std::int64_t publish_time_ns = 0;   // the envelope's publish_time, ns since the Unix epoch
  std::int64_t received_time_ns = 0;  // when the gateway received it, ns since the Unix epoch
  std::size_t key_index = 0;          // which configured secret authenticated it
  std::string body;                   // the raw body, exactly as signed
  std::string signature;              // the X-Fiskil-Signature header value
};

// stored is what a store did with a record.
enum class stored : std::uint8_t {
  kept,              // durable now: answer 200 accepted
  duplicate,         // the store already had this message_id: answer 200 duplicate
  superseded,        // the store's consent state is newer: answer 200 superseded
  after_revocation,  // the store has the consent revoked: answer 200 after_revocation
  unavailable,       // not kept (I/O error, timeout, outage): retract, answer 503
};

// storage keeps accepted deliveries durably. Every method is safe to call
// from any thread.
class storage {
 public:
  virtual ~storage() = default;

  // append keeps r and then calls done exactly once, from any thread (never
  // from inside append itself), with what became of it. done runs only after
  // the record is durable when it says kept.
  virtual void append(record r, std::function<void(stored)> done) = 0;

  // ready is false while the store cannot keep deliveries (/readyz).
  [[nodiscard]] virtual bool ready() const = 0;

  // warm feeds the message ids and consent states still inside the
  // retention (now - retention) back into the receiver, so that a restart
  // opens no replay window and forgets no revocation.
  virtual void warm(fw::receiver& receiver, std::int64_t now_ns, std::int64_t retention_ns) = 0;

  // write_metrics appends the store's Prometheus metrics (text format).
  virtual void write_metrics(std::string& out) const = 0;

  // stop finishes the appends in flight (calling their done) and closes.
  virtual void stop() = 0;
};

}  // namespace fiskil::gateway
