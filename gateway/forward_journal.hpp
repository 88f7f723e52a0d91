// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
//
// forward_journal: the forwarder's SQL against the journal (docs/forward.md,
// "State in the journal"). Its own connection to the journal file: WAL lets
// it read while the gateway's writer writes; its write transactions are
// short (the writer waits at most --journal-busy-timeout for the lock).
//
// Its tables, next to the journal's own:
//   forward_state (dest, seq, message_id, order_key, state, attempts,
//                  next_attempt_ns, series_start_ns, last_status,
//                  last_error, updated_ns, and for a dead letter a copy of
//                  its event, received_ns and body): one row per delivery
//                  and destination; state pending | delivered | dead;
//   forward_meta (dest, key, value): 'scanned' (the highest journal seq
//                  taken into forward_state) and 'paused' ('1' after a 410).
// and its cursor in consumer_cursor, named forward:<URL>: the journal seq
// below every pending delivery, so that pruning keeps what is not yet
// delivered or dead-lettered.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "forward_source.hpp"

struct sqlite3;

namespace fiskil::gateway {

// forward_journal is one destination's view of the journal, the forwarder's
// source for the SQLite store. Not thread-safe: one thread uses it.
class forward_journal final : public forward_source {
 public:
  // open connects to the journal at path (which must exist) and makes the
  // forward tables and the destination's cursor when missing.
  static std::unique_ptr<forward_journal> open(const std::string& path, const std::string& dest,
                                               std::chrono::milliseconds busy_timeout, std::string& error);
  ~forward_journal() override;
  forward_journal(const forward_journal&) = delete;
  forward_journal& operator=(const forward_journal&) = delete;

  // scan takes up to limit journal rows past 'scanned' into forward_state
  // as pending. added says how many.
  bool scan(std::int64_t now_ns, int limit, int& added, std::string& error) override;
  // candidates lists, in seq order, up to limit pending deliveries that are
  // due at now_ns and the first pending one of their consent; earliest_ns
  // is when the next not yet due one is (INT64_MAX: none).
  bool candidates(std::int64_t now_ns, int limit, std::vector<forward_candidate>& out, std::int64_t& earliest_ns,
                  std::string& error) override;
  // load reads one delivery for an attempt; false with error empty when it
  // is no longer pending or its journal row is gone.
  bool load(std::int64_t seq, forward_job& out, std::string& error) override;
  // record writes the outcomes and moves the cursor, in one transaction.
  bool record(std::span<const forward_outcome> outcomes, std::string& error) override;
  // forget_pruned deletes up to 1000 delivered rows whose journal row was
  // pruned (--keep). Dead letters stay, with their copy of the delivery.
  bool forget_pruned(int& removed, std::string& error);
  bool tidy(int& removed, std::string& error) override { return forget_pruned(removed, error); }
  std::string_view commands() const override { return "journal"; }
  bool paused(bool& out, std::string& error) override;
  bool set_paused(bool paused, std::string& error) override;
  bool gauges(std::int64_t now_ns, forward_gauges& out, std::string& error) override;

 private:
  forward_journal() = default;
  bool move_cursor(std::string& error);
  sqlite3* db_ = nullptr;
  std::string dest_;
  std::int64_t scanned_ = -1;
};

// The journal commands' SQL (fiskil-gateway journal ..., journal_command.cpp).
// Each opens its own connection; safe while the gateway runs.
namespace forward_admin {

struct destination_status {
  std::string dest;
  forward_gauges gauges;
  std::int64_t cursor = 0;
};

struct listed {
  std::string dest;
  std::int64_t seq = 0;
  std::string message_id, event, state;
  int attempts = 0;
  int last_status = 0;
  std::string last_error;
  std::int64_t next_attempt_ns = 0;
};

// connect opens the journal (which must exist) and makes the forward tables
// when missing.
sqlite3* connect(const std::string& path, std::string& error);
void disconnect(sqlite3* db);
bool status(sqlite3* db, std::int64_t now_ns, std::vector<destination_status>& out, std::string& error);
bool list(sqlite3* db, bool dead, std::vector<listed>& out, std::string& error);
// redrive makes dead letters pending again, with a new series of attempts:
// the one with message_id id, or all when id is empty.
bool redrive(sqlite3* db, const std::string& id, std::int64_t now_ns, std::int64_t& changed, std::string& error);
// replay starts a new series of attempts (same webhook-id) for the
// deliveries with message_id id, or received at or after since_ns, of
// event name event when not empty; for every destination.
bool replay(sqlite3* db, const std::string& id, std::optional<std::int64_t> since_ns, const std::string& event,
            std::int64_t now_ns, std::int64_t& changed, std::string& error);
bool resume(sqlite3* db, std::int64_t& changed, std::string& error);

}  // namespace forward_admin

}  // namespace fiskil::gateway
