// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
#include "journal_batch.hpp"

#include <algorithm>
#include <chrono>
#include <optional>

namespace fiskil::gateway {

const char* const journal_schema = R"(
CREATE TABLE IF NOT EXISTS deliveries (
  seq              INTEGER PRIMARY KEY AUTOINCREMENT,
  message_id       TEXT    NOT NULL UNIQUE,
  event            TEXT    NOT NULL,
  consent_id       TEXT,
  publish_time_ns  INTEGER NOT NULL,
  received_time_ns INTEGER NOT NULL,
  key_index        INTEGER NOT NULL,
  body             BLOB    NOT NULL,
  signature        TEXT    NOT NULL
);
CREATE TABLE IF NOT EXISTS consents (
  consent_id       TEXT    PRIMARY KEY,
  change           INTEGER NOT NULL,
  publish_time_ns  INTEGER NOT NULL,
  message_id       TEXT    NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS gateway_meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS consumer_cursor (name TEXT PRIMARY KEY, seq INTEGER NOT NULL);
)";

bool journal_batch::prepare(sqlite3* db) {
  db_ = db;
  return begin_.prepare(db, "BEGIN IMMEDIATE") && commit_.prepare(db, "COMMIT") &&
         rollback_.prepare(db, "ROLLBACK") &&
         find_id_.prepare(db, "SELECT 1 FROM deliveries WHERE message_id = ?1") &&
         find_consent_.prepare(db, "SELECT change, publish_time_ns FROM consents WHERE consent_id = ?1") &&
         insert_.prepare(db,
                         "INSERT INTO deliveries (message_id, event, consent_id, publish_time_ns, received_time_ns,"
                         " key_index, body, signature) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
                         " ON CONFLICT (message_id) DO NOTHING") &&
         upsert_consent_.prepare(db,
                                 "INSERT INTO consents (consent_id, change, publish_time_ns, message_id)"
                                 " VALUES (?1, ?2, ?3, ?4) ON CONFLICT (consent_id) DO UPDATE SET"
                                 " change = excluded.change, publish_time_ns = excluded.publish_time_ns,"
                                 " message_id = excluded.message_id");
}

void journal_batch::finalize() {
  for (sqlite_statement* s : {&begin_, &commit_, &rollback_, &find_id_, &find_consent_, &insert_, &upsert_consent_})
    s->finalize();
  db_ = nullptr;
}

// run steps a statement without rows (BEGIN, COMMIT, ROLLBACK).
bool journal_batch::run(sqlite_statement& s) {
  const int rc = s.step();
  sqlite3_reset(s.get());
  return rc == SQLITE_DONE;
}

// insert_row inserts r, or nothing when its message_id is there already.
bool journal_batch::insert_row(const record& r) {
  insert_.reset();
  insert_.text(1, r.message_id);
  insert_.text(2, r.event_name);
  if (r.consent_change) insert_.text(3, r.consent_id);
  insert_.integer(4, r.publish_time_ns);
  insert_.integer(5, r.received_time_ns);
  insert_.integer(6, static_cast<std::int64_t>(r.key_index));
  insert_.blob(7, r.body);
  insert_.text(8, r.signature);
  const int rc = insert_.step();
  insert_.reset();
  return rc == SQLITE_DONE;
}

// decide classifies one record inside the open transaction. Returns false
// on a database error.
bool journal_batch::decide(const record& r, stored& verdict) {
  if (!r.consent_change) {
    // One B-tree descent: the unique message_id refuses a second row.
    if (!insert_row(r)) return false;
    verdict = sqlite3_changes(db_) == 1 ? stored::kept : stored::duplicate;
    return true;
  }
  find_id_.reset();
  find_id_.text(1, r.message_id);
  int rc = find_id_.step();
  find_id_.reset();
  if (rc == SQLITE_ROW) {
    verdict = stored::duplicate;
    return true;
  }
  if (rc != SQLITE_DONE) return false;
  // The consent tracker's rule (fw::consent_order_after), on the durable state.
  std::optional<fw::consent_state> latest;
  find_consent_.reset();
  find_consent_.text(1, r.consent_id);
  rc = find_consent_.step();
  if (rc == SQLITE_ROW) {
    latest = fw::consent_state{static_cast<fw::consent_change>(sqlite3_column_int(find_consent_.get(), 0)),
                               fw::timestamp{std::chrono::nanoseconds{sqlite3_column_int64(find_consent_.get(), 1)}}};
  }
  find_consent_.reset();
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return false;
  switch (fw::consent_order_after(latest, *r.consent_change, fw::timestamp{std::chrono::nanoseconds{r.publish_time_ns}})) {
    case fw::consent_order::newer:
      break;
    case fw::consent_order::duplicate:
      verdict = stored::duplicate;
      return true;
    case fw::consent_order::stale:
      verdict = stored::superseded;
      return true;
    case fw::consent_order::after_revocation:
      verdict = stored::after_revocation;
      return true;
  }
  if (!insert_row(r)) return false;
  upsert_consent_.reset();
  upsert_consent_.text(1, r.consent_id);
  upsert_consent_.integer(2, static_cast<int>(*r.consent_change));
  upsert_consent_.integer(3, r.publish_time_ns);
  upsert_consent_.text(4, r.message_id);
  rc = upsert_consent_.step();
  upsert_consent_.reset();
  if (rc != SQLITE_DONE) return false;
  verdict = stored::kept;
  return true;
}

const char* journal_batch::write(std::span<const record* const> records, std::span<stored> verdicts,
                                 std::string& why) {
  std::fill(verdicts.begin(), verdicts.end(), stored::unavailable);
  if (!run(begin_)) {
    why = sqlite3_errmsg(db_);
    return "begin";
  }
  const char* failed = nullptr;
  for (std::size_t i = 0; i < records.size() && failed == nullptr; ++i)
    if (!decide(*records[i], verdicts[i])) failed = "write";
  if (failed == nullptr && !run(commit_)) failed = "commit";
  if (failed != nullptr) {
    why = sqlite3_errmsg(db_);  // before the rollback's own
    if (sqlite3_get_autocommit(db_) == 0) (void)run(rollback_);
    std::fill(verdicts.begin(), verdicts.end(), stored::unavailable);
  }
  return failed;
}

}  // namespace fiskil::gateway
