// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
//
// forward_source: where the forwarder (forwarder.hpp) takes its deliveries
// from and records their outcomes: the SQLite journal (forward_journal.hpp)
// or a JetStream consumer (forward_jetstream.hpp). The forwarder's
// dispatcher thread alone calls it.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace fiskil::gateway {

// forward_candidate is a pending delivery, as the dispatcher sees it.
struct forward_candidate {
  std::int64_t seq = 0;
  std::optional<std::string> order_key;  // the consent_id: one at a time, in seq order
  std::int64_t next_attempt_ns = 0;      // not before (system clock, ns since the epoch)
};

// forward_job is what one attempt sends.
struct forward_job {
  std::int64_t seq = 0;
  std::string message_id, event, body;
  std::int64_t received_time_ns = 0;
  std::int64_t series_start_ns = 0;
  int attempts = 0;  // attempts made before this one
  std::optional<std::string> order_key;
};

// forward_outcome is what to write after an attempt.
struct forward_outcome {
  std::int64_t seq = 0;
  std::string state;  // pending | delivered | dead
  int attempts = 0;
  std::int64_t next_attempt_ns = 0;
  int last_status = 0;  // 0: no HTTP answer
  std::string last_error;
  bool pause = false;   // a 410: pause forwarding
};

// forward_gauges are the metrics read from the store.
struct forward_gauges {
  std::int64_t backlog = 0;   // pending plus not yet scanned
  double oldest_pending_seconds = 0;
  std::int64_t dead = 0;
  std::int64_t delivered = 0;
  bool paused = false;
};

// forward_source is one destination's deliveries in one store. Each call
// returns false with error set when the store cannot be used now (the
// dispatcher retries); not thread-safe.
class forward_source {
 public:
  virtual ~forward_source() = default;
  // scan takes up to limit new deliveries in as pending; added says how many.
  virtual bool scan(std::int64_t now_ns, int limit, int& added, std::string& error) = 0;
  // candidates lists, in order, up to limit pending deliveries that are due
  // at now_ns and the first pending one of their consent; earliest_ns is
  // when the next not yet due one is (INT64_MAX: none).
  virtual bool candidates(std::int64_t now_ns, int limit, std::vector<forward_candidate>& out,
                          std::int64_t& earliest_ns, std::string& error) = 0;
  // load reads one delivery for an attempt; false with error empty when it
  // is no longer pending.
  virtual bool load(std::int64_t seq, forward_job& out, std::string& error) = 0;
  // record keeps the outcomes of finished attempts.
  virtual bool record(std::span<const forward_outcome> outcomes, std::string& error) = 0;
  // tidy is the occasional clean-up; removed says how much it did (1000:
  // more to do at once).
  virtual bool tidy(int& removed, std::string& error) = 0;
  virtual bool paused(bool& out, std::string& error) = 0;
  virtual bool set_paused(bool paused, std::string& error) = 0;
  virtual bool gauges(std::int64_t now_ns, forward_gauges& out, std::string& error) = 0;
  // commands names the command group that manages this source's forwarding
  // ("journal", "jetstream"), for the logs.
  virtual std::string_view commands() const = 0;
};

}  // namespace fiskil::gateway
