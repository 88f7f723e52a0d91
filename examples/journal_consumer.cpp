// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
//
// journal_consumer: acts exactly once on each delivery fiskil-gateway kept.
//
//   journal_consumer JOURNAL [NAME]
//
// Reads the journal's deliveries after its cursor, in seq order, parses each
// body with the library, dispatches it with fw::dispatch, and records its
// effect (here: one row in consumer_effects, the line it prints) and the
// new cursor in ONE transaction, in the journal's own database. A crash
// before the commit undoes both, so the event is handled again on restart;
// after it, neither is redone: each event's effect happens exactly once.
// The printed line follows the commit, so a crash between the two can lose a
// line of output, never duplicate an effect. Exits when it has caught up.
// Protocol and schema: docs/gateway.md, "Consuming the journal".
#include <sqlite3.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include <fiskil/webhooks.hpp>

namespace fw = fiskil::webhooks;

namespace {

int fail(sqlite3* db, const char* what) {
  std::fprintf(stderr, "journal_consumer: %s: %s\n", what, db != nullptr ? sqlite3_errmsg(db) : "cannot open");
  sqlite3_close(db);
  return 1;
}

// describe is what this consumer does with an event: a line of text.
std::string describe(const fw::event& ev) {
  std::string line;
  fw::dispatch(
      ev,
      [&](const fw::consent_event auto& e) { line = "consent=" + std::string(e.consent_id); },
      [&](const fw::banking_sync_event auto& e) { line = "banking end_user=" + std::string(e.end_user_id); },
      [&](const fw::energy_sync_event auto& e) { line = "energy end_user=" + std::string(e.end_user_id); },
      [&](const fw::unknown_event& e) { line = "unknown event '" + std::string(e.name) + "'"; },
      [&](const auto& e) { line = "end_user=" + std::string(e.end_user_id); });
  return line;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || argc > 3) {
    std::fprintf(stderr, "usage: journal_consumer JOURNAL [NAME]\n");
    return 64;
  }
  const std::string name = argc == 3 ? argv[2] : "journal_consumer";
  const char* delay = std::getenv("FISKIL_CONSUMER_DELAY_US");  // tests: widen the crash window
  const useconds_t delay_us = delay != nullptr ? static_cast<useconds_t>(std::atoi(delay)) : 0;

  sqlite3* db = nullptr;
  if (sqlite3_open_v2(argv[1], &db, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) return fail(db, argv[1]);
  sqlite3_busy_timeout(db, 5000);
  if (sqlite3_exec(db,
                   "PRAGMA synchronous=FULL;"
                   "CREATE TABLE IF NOT EXISTS consumer_cursor (name TEXT PRIMARY KEY, seq INTEGER NOT NULL)"
                   " WITHOUT ROWID;"
                   "CREATE TABLE IF NOT EXISTS consumer_effects (consumer TEXT NOT NULL, seq INTEGER NOT NULL,"
                   " message_id TEXT NOT NULL, line TEXT NOT NULL, PRIMARY KEY (consumer, seq)) WITHOUT ROWID;",
                   nullptr, nullptr, nullptr) != SQLITE_OK)
    return fail(db, "schema");

  sqlite3_stmt *cursor = nullptr, *next = nullptr, *effect = nullptr, *advance = nullptr;
  if (sqlite3_prepare_v2(db, "SELECT seq FROM consumer_cursor WHERE name = ?1", -1, &cursor, nullptr) != SQLITE_OK ||
      sqlite3_prepare_v2(db, "SELECT seq, message_id, event, body FROM deliveries WHERE seq > ?1 ORDER BY seq LIMIT 1",
                         -1, &next, nullptr) != SQLITE_OK ||
      sqlite3_prepare_v2(db, "INSERT INTO consumer_effects (consumer, seq, message_id, line) VALUES (?1, ?2, ?3, ?4)",
                         -1, &effect, nullptr) != SQLITE_OK ||
      sqlite3_prepare_v2(db,
                         "INSERT INTO consumer_cursor (name, seq) VALUES (?1, ?2)"
                         " ON CONFLICT (name) DO UPDATE SET seq = excluded.seq",
                         -1, &advance, nullptr) != SQLITE_OK)
    return fail(db, "prepare");

  fw::parser parser;
  for (;;) {
    // One transaction per event: read the cursor, the next row, record the
    // effect, move the cursor, commit.
    if (sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) != SQLITE_OK) return fail(db, "begin");
    sqlite3_int64 at = 0;
    sqlite3_bind_text(cursor, 1, name.c_str(), -1, SQLITE_STATIC);
    if (sqlite3_step(cursor) == SQLITE_ROW) at = sqlite3_column_int64(cursor, 0);
    sqlite3_reset(cursor);
    sqlite3_bind_int64(next, 1, at);
    if (sqlite3_step(next) != SQLITE_ROW) {
      sqlite3_reset(next);
      sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
      break;  // caught up
    }
    const sqlite3_int64 seq = sqlite3_column_int64(next, 0);
    const std::string message_id(reinterpret_cast<const char*>(sqlite3_column_text(next, 1)));
    const std::string event_name(reinterpret_cast<const char*>(sqlite3_column_text(next, 2)));
    const std::string_view body(static_cast<const char*>(sqlite3_column_blob(next, 3)),
                                static_cast<std::size_t>(sqlite3_column_bytes(next, 3)));
    // The gateway verified the body before keeping it: parse, not verify.
    const fw::result<fw::event> ev = parser.parse(body);
    std::string line = std::to_string(seq) + " " + message_id + " " + event_name + " ";
    line += ev ? describe(*ev) : "unparsable: " + ev.error().message();
    sqlite3_reset(next);

    sqlite3_bind_text(effect, 1, name.c_str(), -1, SQLITE_STATIC);
    sqlite3_bind_int64(effect, 2, seq);
    sqlite3_bind_text(effect, 3, message_id.c_str(), -1, SQLITE_STATIC);
    sqlite3_bind_text(effect, 4, line.c_str(), -1, SQLITE_STATIC);
    const int inserted = sqlite3_step(effect);
    sqlite3_reset(effect);
    sqlite3_bind_text(advance, 1, name.c_str(), -1, SQLITE_STATIC);
    sqlite3_bind_int64(advance, 2, seq);
    const int advanced = sqlite3_step(advance);
    sqlite3_reset(advance);
    if (inserted != SQLITE_DONE || advanced != SQLITE_DONE) return fail(db, "write");
    if (delay_us != 0) usleep(delay_us);
    if (sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) return fail(db, "commit");
    std::printf("%s\n", line.c_str());
    std::fflush(stdout);
  }
  sqlite3_finalize(cursor);
  sqlite3_finalize(next);
  sqlite3_finalize(effect);
  sqlite3_finalize(advance);
  sqlite3_close(db);
  return 0;
}
