// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
#include "forward_journal.hpp"

#include <sqlite3.h>

#include <algorithm>

namespace fiskil::gateway {

namespace {

constexpr const char* forward_schema = R"(
CREATE TABLE IF NOT EXISTS consumer_cursor (name TEXT PRIMARY KEY, seq INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS forward_state (
  dest            TEXT    NOT NULL,
  seq             INTEGER NOT NULL,
  message_id      TEXT    NOT NULL,
  order_key       TEXT,
  state           TEXT    NOT NULL CHECK (state IN ('pending', 'delivered', 'dead')),
  attempts        INTEGER NOT NULL,
  next_attempt_ns INTEGER NOT NULL,
  series_start_ns INTEGER NOT NULL,
  last_status     INTEGER,
  last_error      TEXT,
  updated_ns      INTEGER NOT NULL,
  event           TEXT,     -- a dead letter's copy of its delivery, so that
  received_ns     INTEGER,  -- pruning the journal (--keep) never takes away
  body            BLOB,     -- what a redrive needs
  PRIMARY KEY (dest, seq)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS forward_state_by_state ON forward_state (dest, state, seq);
CREATE INDEX IF NOT EXISTS forward_state_due ON forward_state (dest, state, next_attempt_ns);
CREATE INDEX IF NOT EXISTS forward_state_pending_by_key ON forward_state (dest, order_key, seq)
  WHERE state = 'pending';
CREATE TABLE IF NOT EXISTS forward_meta (
  dest  TEXT NOT NULL,
  key   TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (dest, key)
) WITHOUT ROWID;
)";

// The order key: the journal's consent_id (consent events), else the body's
// data.consent_id (every Fiskil event carries one; arrangementId in the
// guide's legacy example).
#define FORWARD_ORDER_KEY(d)                                                                                \
  "COALESCE(" d ".consent_id, CASE WHEN json_valid(CAST(" d ".body AS TEXT)) THEN COALESCE(json_extract(CAST(" d \
  ".body AS TEXT), '$.data.consent_id'), json_extract(CAST(" d ".body AS TEXT), '$.data.arrangementId')) END)"

// The cursor of dest: below its lowest pending delivery, else at 'scanned'.
constexpr const char* cursor_sql =
    "INSERT INTO consumer_cursor (name, seq) VALUES ('forward:' || ?1, COALESCE("
    " (SELECT MIN(seq) - 1 FROM forward_state WHERE dest = ?1 AND state = 'pending'),"
    " (SELECT CAST(value AS INTEGER) FROM forward_meta WHERE dest = ?1 AND key = 'scanned'), 0))"
    " ON CONFLICT (name) DO UPDATE SET seq = excluded.seq";

class stmt {
 public:
  stmt(sqlite3* db, const char* sql) { ok_ = sqlite3_prepare_v2(db, sql, -1, &s_, nullptr) == SQLITE_OK; }
  ~stmt() { sqlite3_finalize(s_); }
  stmt(const stmt&) = delete;
  stmt& operator=(const stmt&) = delete;
  [[nodiscard]] bool ok() const { return ok_; }
  stmt& text(int i, const std::string& v) {
    sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  stmt& integer(int i, std::int64_t v) {
    sqlite3_bind_int64(s_, i, v);
    return *this;
  }
  stmt& null(int i) {
    sqlite3_bind_null(s_, i);
    return *this;
  }
  int step() { return sqlite3_step(s_); }
  void reset() { sqlite3_reset(s_); }
  std::int64_t i64(int c) const { return sqlite3_column_int64(s_, c); }
  bool is_null(int c) const { return sqlite3_column_type(s_, c) == SQLITE_NULL; }
  std::string str(int c) const {
    const auto* p = static_cast<const char*>(sqlite3_column_blob(s_, c));
    return p == nullptr ? std::string() : std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(s_, c)));
  }

 private:
  sqlite3_stmt* s_ = nullptr;
  bool ok_ = false;
};

bool exec(sqlite3* db, const char* sql, std::string& error) {
  char* message = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &message) != SQLITE_OK) {
    error = message != nullptr ? message : sqlite3_errmsg(db);
    sqlite3_free(message);
    return false;
  }
  return true;
}

bool fail(sqlite3* db, std::string& error) {
  error = sqlite3_errmsg(db);
  return false;
}

// transaction: BEGIN IMMEDIATE now, ROLLBACK unless committed.
class transaction {
 public:
  explicit transaction(sqlite3* db) : db_(db) {}
  bool begin(std::string& error) { return open_ = exec(db_, "BEGIN IMMEDIATE", error); }
  bool commit(std::string& error) {
    if (!exec(db_, "COMMIT", error)) return false;
    open_ = false;
    return true;
  }
  ~transaction() {
    std::string ignored;
    if (open_) (void)exec(db_, "ROLLBACK", ignored);
  }

 private:
  sqlite3* db_;
  bool open_ = false;
};

sqlite3* open_connection(const std::string& path, std::chrono::milliseconds busy_timeout, std::string& error) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK) {
    error = path + ": " + (db != nullptr ? sqlite3_errmsg(db) : "cannot open");
    sqlite3_close_v2(db);
    return nullptr;
  }
  sqlite3_busy_timeout(db, static_cast<int>(busy_timeout.count()));
  std::string why;
  {
    stmt has(db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'deliveries'");
    if (!has.ok() || has.step() != SQLITE_ROW) {
      error = path + ": not a fiskil-gateway journal (no deliveries table)";
      sqlite3_close_v2(db);
      return nullptr;
    }
  }
  // WAL is the journal's mode already (persistent in the file); FULL: an
  // outcome is durable when the transaction returns.
  if (!exec(db, "PRAGMA synchronous=FULL", why) || !exec(db, forward_schema, why)) {
    error = path + ": " + why;
    sqlite3_close_v2(db);
    return nullptr;
  }
  return db;
}

bool read_gauges(sqlite3* db, const std::string& dest, std::int64_t now_ns, forward_gauges& out, std::string& error) {
  out = {};
  std::int64_t scanned = 0;
  {
    stmt s(db, "SELECT CAST(value AS INTEGER) FROM forward_meta WHERE dest = ?1 AND key = 'scanned'");
    if (!s.ok()) return fail(db, error);
    s.text(1, dest);
    if (s.step() == SQLITE_ROW) scanned = s.i64(0);
  }
  std::optional<std::int64_t> oldest;
  const auto older = [&](std::int64_t t) { oldest = oldest ? std::min(*oldest, t) : t; };
  {
    stmt s(db, "SELECT COUNT(*), MIN(series_start_ns) FROM forward_state WHERE dest = ?1 AND state = 'pending'");
    if (!s.ok()) return fail(db, error);
    s.text(1, dest);
    if (s.step() != SQLITE_ROW) return fail(db, error);
    out.backlog = s.i64(0);
    if (!s.is_null(1)) older(s.i64(1));
  }
  {
    stmt s(db, "SELECT COUNT(*), MIN(received_time_ns) FROM deliveries WHERE seq > ?1");
    if (!s.ok()) return fail(db, error);
    s.integer(1, scanned);
    if (s.step() != SQLITE_ROW) return fail(db, error);
    out.backlog += s.i64(0);
    if (!s.is_null(1)) older(s.i64(1));
  }
  {
    stmt s(db, "SELECT SUM(state = 'dead'), SUM(state = 'delivered') FROM forward_state WHERE dest = ?1");
    if (!s.ok()) return fail(db, error);
    s.text(1, dest);
    if (s.step() != SQLITE_ROW) return fail(db, error);
    out.dead = s.i64(0);
    out.delivered = s.i64(1);
  }
  {
    stmt s(db, "SELECT value FROM forward_meta WHERE dest = ?1 AND key = 'paused'");
    if (!s.ok()) return fail(db, error);
    s.text(1, dest);
    out.paused = s.step() == SQLITE_ROW && s.str(0) == "1";
  }
  if (oldest) out.oldest_pending_seconds = std::max(0.0, static_cast<double>(now_ns - *oldest) / 1e9);
  return true;
}

bool move_cursor_of(sqlite3* db, const std::string& dest, std::string& error) {
  stmt s(db, cursor_sql);
  if (!s.ok()) return fail(db, error);
  s.text(1, dest);
  return s.step() == SQLITE_DONE || fail(db, error);
}

}  // namespace

std::unique_ptr<forward_journal> forward_journal::open(const std::string& path, const std::string& dest,
                                                       std::chrono::milliseconds busy_timeout, std::string& error) {
  sqlite3* db = open_connection(path, busy_timeout, error);
  if (db == nullptr) return nullptr;
  std::unique_ptr<forward_journal> made(new forward_journal());
  made->db_ = db;
  made->dest_ = dest;
  transaction t(db);
  std::string why;
  stmt scanned(db, "INSERT INTO forward_meta (dest, key, value) VALUES (?1, 'scanned', '0') ON CONFLICT DO NOTHING");
  if (!t.begin(why) || !scanned.ok() || scanned.text(1, dest).step() != SQLITE_DONE ||
      !move_cursor_of(db, dest, why) || !t.commit(why)) {
    error = path + ": " + (why.empty() ? sqlite3_errmsg(db) : why);
    return nullptr;
  }
  return made;
}

forward_journal::~forward_journal() { sqlite3_close_v2(db_); }

bool forward_journal::move_cursor(std::string& error) { return move_cursor_of(db_, dest_, error); }

bool forward_journal::scan(std::int64_t now_ns, int limit, int& added, std::string& error) {
  added = 0;
  if (scanned_ < 0) {
    stmt s(db_, "SELECT CAST(value AS INTEGER) FROM forward_meta WHERE dest = ?1 AND key = 'scanned'");
    if (!s.ok()) return fail(db_, error);
    s.text(1, dest_);
    scanned_ = s.step() == SQLITE_ROW ? s.i64(0) : 0;
  }
  // A read first: most polls find nothing new and take no lock.
  std::int64_t top = 0;
  {
    stmt s(db_, "SELECT MAX(seq) FROM (SELECT seq FROM deliveries WHERE seq > ?1 ORDER BY seq LIMIT ?2)");
    if (!s.ok()) return fail(db_, error);
    s.integer(1, scanned_).integer(2, limit);
    if (s.step() != SQLITE_ROW) return fail(db_, error);
    if (s.is_null(0)) return true;
    top = s.i64(0);
  }
  transaction t(db_);
  if (!t.begin(error)) return false;
  {
    stmt s(db_,
           "INSERT OR IGNORE INTO forward_state (dest, seq, message_id, order_key, state, attempts, next_attempt_ns,"
           " series_start_ns, updated_ns) SELECT ?1, d.seq, d.message_id, " FORWARD_ORDER_KEY("d")
           ", 'pending', 0, ?2, ?2, ?2 FROM deliveries d WHERE d.seq > ?3 AND d.seq <= ?4");
    if (!s.ok()) return fail(db_, error);
    s.text(1, dest_).integer(2, now_ns).integer(3, scanned_).integer(4, top);
    if (s.step() != SQLITE_DONE) return fail(db_, error);
    added = sqlite3_changes(db_);
  }
  {
    stmt s(db_, "UPDATE forward_meta SET value = ?2 WHERE dest = ?1 AND key = 'scanned'");
    if (!s.ok()) return fail(db_, error);
    s.text(1, dest_).text(2, std::to_string(top));
    if (s.step() != SQLITE_DONE) return fail(db_, error);
  }
  if (!move_cursor(error) || !t.commit(error)) return false;
  scanned_ = top;
  return true;
}

bool forward_journal::candidates(std::int64_t now_ns, int limit, std::vector<forward_candidate>& out,
                                 std::int64_t& earliest_ns, std::string& error) {
  out.clear();
  earliest_ns = INT64_MAX;
  // Due, and the first pending delivery of its consent (or without one).
  stmt s(db_,
         // The indexes named: without statistics, the planner would walk
         // the primary key (every delivered row) and, for each candidate,
         // every earlier row.
         "SELECT f.seq, f.order_key, f.next_attempt_ns FROM forward_state f INDEXED BY forward_state_by_state"
         " WHERE f.dest = ?1 AND f.state = 'pending' AND +f.next_attempt_ns <= ?3 AND (f.order_key IS NULL OR"
         " NOT EXISTS (SELECT 1 FROM forward_state p INDEXED BY forward_state_pending_by_key WHERE p.dest = ?1"
         " AND p.order_key = f.order_key AND p.state = 'pending' AND p.seq < f.seq)) ORDER BY f.seq LIMIT ?2");
  if (!s.ok()) return fail(db_, error);
  s.text(1, dest_).integer(2, limit).integer(3, now_ns);
  int rc = 0;
  while ((rc = s.step()) == SQLITE_ROW) {
    forward_candidate c;
    c.seq = s.i64(0);
    if (!s.is_null(1)) c.order_key = s.str(1);
    c.next_attempt_ns = s.i64(2);
    out.push_back(std::move(c));
  }
  if (rc != SQLITE_DONE) return fail(db_, error);
  stmt next(db_,
            "SELECT MIN(next_attempt_ns) FROM forward_state WHERE dest = ?1 AND state = 'pending' AND"
            " next_attempt_ns > ?2");
  if (!next.ok()) return fail(db_, error);
  next.text(1, dest_).integer(2, now_ns);
  if (next.step() != SQLITE_ROW) return fail(db_, error);
  if (!next.is_null(0)) earliest_ns = next.i64(0);
  return true;
}

bool forward_journal::load(std::int64_t seq, forward_job& out, std::string& error) {
  error.clear();
  stmt s(db_,
         "SELECT f.message_id, COALESCE(d.event, f.event), COALESCE(d.body, f.body),"
         " COALESCE(d.received_time_ns, f.received_ns), f.attempts, f.series_start_ns, f.order_key"
         " FROM forward_state f LEFT JOIN deliveries d ON d.seq = f.seq WHERE f.dest = ?1 AND f.seq = ?2"
         " AND f.state = 'pending' AND (d.seq IS NOT NULL OR f.body IS NOT NULL)");
  if (!s.ok()) return fail(db_, error);
  s.text(1, dest_).integer(2, seq);
  const int rc = s.step();
  if (rc == SQLITE_DONE) return false;
  if (rc != SQLITE_ROW) return fail(db_, error);
  out.seq = seq;
  out.message_id = s.str(0);
  out.event = s.str(1);
  out.body = s.str(2);
  out.received_time_ns = s.i64(3);
  out.attempts = static_cast<int>(s.i64(4));
  out.series_start_ns = s.i64(5);
  out.order_key.reset();
  if (!s.is_null(6)) out.order_key = s.str(6);
  return true;
}

bool forward_journal::record(std::span<const forward_outcome> outcomes, std::string& error) {
  if (outcomes.empty()) return true;
  transaction t(db_);
  if (!t.begin(error)) return false;
  stmt s(db_,
         "UPDATE forward_state SET state = ?3, attempts = ?4, next_attempt_ns = ?5, last_status = ?6,"
         " last_error = ?7, updated_ns = ?8 WHERE dest = ?1 AND seq = ?2");
  if (!s.ok()) return fail(db_, error);
  bool pause = false;
  for (const forward_outcome& o : outcomes) {
    s.reset();
    s.text(1, dest_).integer(2, o.seq).text(3, o.state).integer(4, o.attempts).integer(5, o.next_attempt_ns);
    if (o.last_status != 0) {
      s.integer(6, o.last_status);
    } else {
      s.null(6);
    }
    if (o.last_error.empty()) {
      s.null(7);
    } else {
      s.text(7, o.last_error);
    }
    s.integer(8, o.next_attempt_ns);
    if (s.step() != SQLITE_DONE) return fail(db_, error);
    pause = pause || o.pause;
    if (o.state == "dead") {
      stmt keep(db_,
                "UPDATE forward_state SET (event, received_ns, body) = (SELECT event, received_time_ns, body FROM"
                " deliveries WHERE seq = ?2) WHERE dest = ?1 AND seq = ?2 AND body IS NULL");
      if (!keep.ok() || keep.text(1, dest_).integer(2, o.seq).step() != SQLITE_DONE) return fail(db_, error);
    }
  }
  if (pause) {
    stmt p(db_,
           "INSERT INTO forward_meta (dest, key, value) VALUES (?1, 'paused', '1') ON CONFLICT (dest, key)"
           " DO UPDATE SET value = '1'");
    if (!p.ok() || p.text(1, dest_).step() != SQLITE_DONE) return fail(db_, error);
  }
  return move_cursor(error) && t.commit(error);
}

bool forward_journal::forget_pruned(int& removed, std::string& error) {
  removed = 0;
  stmt s(db_,
         "DELETE FROM forward_state WHERE dest = ?1 AND seq IN (SELECT seq FROM forward_state WHERE dest = ?1 AND"
         " state = 'delivered' AND seq < (SELECT COALESCE(MIN(seq), 0) FROM deliveries) ORDER BY seq LIMIT 1000)");
  if (!s.ok()) return fail(db_, error);
  s.text(1, dest_);
  if (s.step() != SQLITE_DONE) return fail(db_, error);
  removed = sqlite3_changes(db_);
  return true;
}

bool forward_journal::paused(bool& out, std::string& error) {
  stmt s(db_, "SELECT value FROM forward_meta WHERE dest = ?1 AND key = 'paused'");
  if (!s.ok()) return fail(db_, error);
  s.text(1, dest_);
  const int rc = s.step();
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return fail(db_, error);
  out = rc == SQLITE_ROW && s.str(0) == "1";
  return true;
}

bool forward_journal::set_paused(bool paused, std::string& error) {
  stmt s(db_,
         "INSERT INTO forward_meta (dest, key, value) VALUES (?1, 'paused', ?2) ON CONFLICT (dest, key)"
         " DO UPDATE SET value = excluded.value");
  if (!s.ok()) return fail(db_, error);
  s.text(1, dest_).text(2, paused ? "1" : "0");
  return s.step() == SQLITE_DONE || fail(db_, error);
}

bool forward_journal::gauges(std::int64_t now_ns, forward_gauges& out, std::string& error) {
  return read_gauges(db_, dest_, now_ns, out, error);
}

namespace forward_admin {

namespace {

bool destinations(sqlite3* db, std::vector<std::string>& out, std::string& error) {
  stmt s(db,
         "SELECT dest FROM forward_meta WHERE key = 'scanned' UNION SELECT substr(name, 9) FROM consumer_cursor"
         " WHERE name LIKE 'forward:%' ORDER BY 1");
  if (!s.ok()) return fail(db, error);
  int rc = 0;
  while ((rc = s.step()) == SQLITE_ROW) out.push_back(s.str(0));
  return rc == SQLITE_DONE || fail(db, error);
}

bool move_all_cursors(sqlite3* db, std::string& error) {
  std::vector<std::string> dests;
  if (!destinations(db, dests, error)) return false;
  for (const std::string& d : dests)
    if (!move_cursor_of(db, d, error)) return false;
  return true;
}

}  // namespace

sqlite3* connect(const std::string& path, std::string& error) {
  return open_connection(path, std::chrono::milliseconds{5000}, error);
}

void disconnect(sqlite3* db) { sqlite3_close_v2(db); }

bool status(sqlite3* db, std::int64_t now_ns, std::vector<destination_status>& out, std::string& error) {
  std::vector<std::string> dests;
  if (!destinations(db, dests, error)) return false;
  for (const std::string& d : dests) {
    destination_status st;
    st.dest = d;
    if (!read_gauges(db, d, now_ns, st.gauges, error)) return false;
    stmt s(db, "SELECT seq FROM consumer_cursor WHERE name = 'forward:' || ?1");
    if (!s.ok()) return fail(db, error);
    s.text(1, d);
    if (s.step() == SQLITE_ROW) st.cursor = s.i64(0);
    out.push_back(std::move(st));
  }
  return true;
}

bool list(sqlite3* db, bool dead, std::vector<listed>& out, std::string& error) {
  stmt s(db,
         "SELECT f.dest, f.seq, f.message_id, COALESCE(d.event, f.event, ''), f.state, f.attempts, COALESCE(f.last_status, 0),"
         " COALESCE(f.last_error, ''), f.next_attempt_ns FROM forward_state f LEFT JOIN deliveries d ON d.seq = f.seq"
         " WHERE f.state = ?1 ORDER BY f.dest, f.seq");
  if (!s.ok()) return fail(db, error);
  s.text(1, dead ? "dead" : "pending");
  int rc = 0;
  while ((rc = s.step()) == SQLITE_ROW) {
    listed l;
    l.dest = s.str(0);
    l.seq = s.i64(1);
    l.message_id = s.str(2);
    l.event = s.str(3);
    l.state = s.str(4);
    l.attempts = static_cast<int>(s.i64(5));
    l.last_status = static_cast<int>(s.i64(6));
    l.last_error = s.str(7);
    l.next_attempt_ns = s.i64(8);
    out.push_back(std::move(l));
  }
  return rc == SQLITE_DONE || fail(db, error);
}

bool redrive(sqlite3* db, const std::string& id, std::int64_t now_ns, std::int64_t& changed, std::string& error) {
  transaction t(db);
  if (!t.begin(error)) return false;
  stmt s(db,
         "UPDATE forward_state SET state = 'pending', attempts = 0, next_attempt_ns = ?1, series_start_ns = ?1,"
         " updated_ns = ?1 WHERE state = 'dead' AND (?2 = '' OR message_id = ?2)");
  if (!s.ok()) return fail(db, error);
  s.integer(1, now_ns).text(2, id);
  if (s.step() != SQLITE_DONE) return fail(db, error);
  changed = sqlite3_changes(db);
  return move_all_cursors(db, error) && t.commit(error);
}

bool replay(sqlite3* db, const std::string& id, std::optional<std::int64_t> since_ns, const std::string& event,
            std::int64_t now_ns, std::int64_t& changed, std::string& error) {
  transaction t(db);
  if (!t.begin(error)) return false;
  // Every destination that has already taken the delivery in (seq at or
  // below its 'scanned'); the others will send it anyway.
  stmt s(db,
         "INSERT INTO forward_state (dest, seq, message_id, order_key, state, attempts, next_attempt_ns,"
         " series_start_ns, updated_ns) SELECT m.dest, d.seq, d.message_id, " FORWARD_ORDER_KEY("d")
         ", 'pending', 0, ?1, ?1, ?1"
         " FROM deliveries d JOIN forward_meta m ON m.key = 'scanned' AND d.seq <= CAST(m.value AS INTEGER)"
         " WHERE (?2 = '' OR d.message_id = ?2) AND (?3 IS NULL OR d.received_time_ns >= ?3)"
         " AND (?4 = '' OR d.event = ?4) AND true"
         " ON CONFLICT (dest, seq) DO UPDATE SET state = 'pending', attempts = 0, next_attempt_ns = ?1,"
         " series_start_ns = ?1, updated_ns = ?1");
  if (!s.ok()) return fail(db, error);
  s.integer(1, now_ns).text(2, id).text(4, event);
  if (since_ns) {
    s.integer(3, *since_ns);
  } else {
    s.null(3);
  }
  if (s.step() != SQLITE_DONE) return fail(db, error);
  changed = sqlite3_changes(db);
  return move_all_cursors(db, error) && t.commit(error);
}

bool resume(sqlite3* db, std::int64_t& changed, std::string& error) {
  stmt s(db, "UPDATE forward_meta SET value = '0' WHERE key = 'paused' AND value = '1'");
  if (!s.ok()) return fail(db, error);
  if (s.step() != SQLITE_DONE) return fail(db, error);
  changed = sqlite3_changes(db);
  return true;
}

}  // namespace forward_admin

}  // namespace fiskil::gateway
