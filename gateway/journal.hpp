// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
//
// journal: the embedded durable store, one SQLite database in WAL mode.
// Schema and consumer protocol: docs/gateway.md.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "storage.hpp"

namespace fiskil::gateway {

// journal_options configures a journal.
struct journal_options {
  std::string path;  // the database file; ":memory:" keeps nothing across restarts
  std::chrono::nanoseconds keep = std::chrono::hours{24 * 7};  // prune rows received longer ago
  std::size_t queue_limit = 65536;  // appends waiting for the writer; more are unavailable
  // busy_timeout: how long a write waits for another process's write lock
  // before its batch is answered unavailable.
  std::chrono::milliseconds busy_timeout{2000};
  // wal_limit bounds the WAL file in bytes: checkpoints run beside the
  // writer once a sixteenth of it waits for one, the writer runs one itself
  // when the WAL reaches it, and the file is trimmed to it when it restarts.
  std::size_t wal_limit = std::size_t{64} << 20;
};

// open_journal opens (creating if needed) the journal and starts its writer
// thread. Returns null and says why in error when the database cannot be
// opened or its schema made.
//
// One writer thread owns the connection. append() queues the record; the
// writer takes everything queued, writes it in one transaction and commits
// it with one fsync (synchronous=FULL), then calls each record's done: group
// commit. The unique message_id and the consents table decide duplicates and
// consent order, inside that transaction. A failed transaction answers every
// record of its batch unavailable and makes ready() false until a write
// succeeds again (the writer probes every half second while idle, reopening
// the database).
//
// Identity: the journal carries a random journal_id in gateway_meta, made
// when the file is created, which happens only here, at start. A file removed
// or replaced at run time is never re-created or adopted: every write is
// answered unavailable (and ready() is false) until the file with that id is
// back at the path, or the gateway restarts.
//
// Pruning (--keep) deletes at most 1000 rows at a time, only while no append
// is waiting, and never a row a consumer registered in consumer_cursor has
// not passed; each consumer's lag is a metric.
std::unique_ptr<storage> open_journal(const journal_options& options, std::string& error);

}  // namespace fiskil::gateway
