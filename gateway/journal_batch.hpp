// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
//
// journal_batch: the journal's SQL decisions, without threads. It keeps one
// batch of records in one transaction on a connection it does not own, and
// says what became of each: the unique message_id decides duplicates, the
// consents table decides consent order (fw::consent_order_after).
#pragma once

#include <span>
#include <string>

#include <sqlite3.h>

#include "sqlite_statement.hpp"
#include "storage.hpp"

namespace fiskil::gateway {

// journal_schema creates the journal's tables when they are missing
// (docs/gateway.md, "The journal").
extern const char* const journal_schema;

// journal_batch holds the prepared statements of one connection.
class journal_batch {
 public:
  // prepare prepares the statements on db, whose schema exists. Returns
  // false on error (sqlite3_errmsg(db) says why). db must outlive them:
  // finalize() before closing it.
  bool prepare(sqlite3* db);
  void finalize();

  // write keeps records in one transaction (BEGIN IMMEDIATE ... COMMIT) and
  // sets verdicts[i] (same size) to what became of records[i]: kept,
  // duplicate, superseded or after_revocation. Returns null on success;
  // otherwise the step that failed ("begin", "write" or "commit", with
  // why set to SQLite's message), after rolling back and setting every
  // verdict unavailable: nothing of the batch was kept.
  const char* write(std::span<const record* const> records, std::span<stored> verdicts, std::string& why);

 private:
  bool run(sqlite_statement& s);
  bool insert_row(const record& r);
  bool decide(const record& r, stored& verdict);

  sqlite3* db_ = nullptr;
  sqlite_statement begin_, commit_, rollback_, find_id_, find_consent_, insert_, upsert_consent_;
};

}  // namespace fiskil::gateway
