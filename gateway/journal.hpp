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
// the database). Pruning (--keep) deletes at most 1000 rows at a time, only
// while no append is waiting.
std::unique_ptr<storage> open_journal(const journal_options& options, std::string& error);

}  // namespace fiskil::gateway
