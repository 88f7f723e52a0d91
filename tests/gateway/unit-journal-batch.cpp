// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
//
// gateway/journal_batch: the journal's SQL decisions, without threads: one
// batch in one transaction, duplicates by message_id, consent order by the
// consents table, and nothing kept when the transaction fails.
#include <doctest/doctest.h>

#include <sqlite3.h>

#include <array>
#include <string>
#include <vector>

#include "journal_batch.hpp"

namespace gw = fiskil::gateway;
namespace fw = fiskil::webhooks;

namespace {

struct database {
  sqlite3* db = nullptr;
  database() {
    REQUIRE(sqlite3_open(":memory:", &db) == SQLITE_OK);
    REQUIRE(sqlite3_exec(db, gw::journal_schema, nullptr, nullptr, nullptr) == SQLITE_OK);
  }
  ~database() { sqlite3_close_v2(db); }
  long long count(const char* sql) const {
    sqlite3_stmt* s = nullptr;
    REQUIRE(sqlite3_prepare_v2(db, sql, -1, &s, nullptr) == SQLITE_OK);
    REQUIRE(sqlite3_step(s) == SQLITE_ROW);
    const long long n = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return n;
  }
};

gw::record delivery(std::string id, std::int64_t publish_s = 100) {
  gw::record r;
  r.message_id = std::move(id);
  r.event_name = "banking.accounts.sync.completed";
  r.publish_time_ns = publish_s * 1'000'000'000;
  r.received_time_ns = r.publish_time_ns + 1;
  r.body = "{\"message_id\":\"" + r.message_id + "\"}";
  r.signature = "c2ln";
  return r;
}

gw::record consent(std::string id, fw::consent_change change, std::int64_t publish_s, std::string consent_id = "c-1") {
  gw::record r = delivery(std::move(id), publish_s);
  r.event_name = change == fw::consent_change::received  ? "consent.received"
                 : change == fw::consent_change::updated ? "consent.updated"
                                                         : "consent.revoked";
  r.consent_id = std::move(consent_id);
  r.consent_change = change;
  return r;
}

std::vector<gw::stored> write(gw::journal_batch& batch, const std::vector<gw::record>& records,
                              const char** failed = nullptr) {
  std::vector<const gw::record*> pointers;
  for (const gw::record& r : records) pointers.push_back(&r);
  std::vector<gw::stored> verdicts(records.size(), gw::stored::kept);
  std::string why;
  const char* step = batch.write(pointers, verdicts, why);
  if (failed != nullptr) *failed = step;
  else CHECK_MESSAGE(step == nullptr, why);
  return verdicts;
}

using enum gw::stored;
using change = fw::consent_change;

}  // namespace

TEST_CASE("one row per message_id: a copy in the same batch or a later one is a duplicate") {
  database d;
  gw::journal_batch batch;
  REQUIRE(batch.prepare(d.db));
  CHECK(write(batch, {delivery("a"), delivery("a"), delivery("b")}) == std::vector{kept, duplicate, kept});
  CHECK(write(batch, {delivery("b"), delivery("c")}) == std::vector{duplicate, kept});
  CHECK(d.count("SELECT count(*) FROM deliveries") == 3);
  CHECK(d.count("SELECT count(*) FROM deliveries WHERE message_id = 'a' AND CAST(body AS TEXT) = '{\"message_id\":\"a\"}'") == 1);
  batch.finalize();
}

TEST_CASE("consent order on the durable state: superseded, duplicate by change, after_revocation") {
  database d;
  gw::journal_batch batch;
  REQUIRE(batch.prepare(d.db));
  CHECK(write(batch, {consent("r", change::received, 100), consent("u-old", change::updated, 90),
                      consent("r-again", change::received, 100), consent("u", change::updated, 110)}) ==
        std::vector{kept, superseded, duplicate, kept});
  // The same id again is a duplicate whatever its order.
  CHECK(write(batch, {consent("u", change::updated, 110)}) == std::vector{duplicate});
  // A revocation is never stale, and final: an older one applies, what
  // follows it is after_revocation, a second revocation a duplicate.
  CHECK(write(batch, {consent("v", change::revoked, 50), consent("u-new", change::updated, 120),
                      consent("v2", change::revoked, 130)}) == std::vector{kept, after_revocation, duplicate});
  CHECK(d.count("SELECT change FROM consents WHERE consent_id = 'c-1'") == 3);
  CHECK(d.count("SELECT count(*) FROM deliveries WHERE consent_id = 'c-1'") == 3);  // r, u, v
  // Another consent is judged on its own.
  CHECK(write(batch, {consent("x", change::updated, 10, "c-2")}) == std::vector{kept});
  batch.finalize();
}

TEST_CASE("a failed transaction keeps nothing of its batch and answers it unavailable") {
  database d;
  gw::journal_batch batch;
  REQUIRE(batch.prepare(d.db));
  CHECK(write(batch, {delivery("a")}) == std::vector{kept});
  // A consent state the write cannot update: the trigger fails the
  // statement after the batch's first rows were inserted.
  REQUIRE(sqlite3_exec(d.db,
                       "CREATE TRIGGER refuse BEFORE INSERT ON consents BEGIN SELECT RAISE(ABORT, 'refused'); END",
                       nullptr, nullptr, nullptr) == SQLITE_OK);
  REQUIRE(batch.prepare(d.db));  // after the schema change
  const char* failed = nullptr;
  CHECK(write(batch, {delivery("b"), consent("r", change::received, 100)}, &failed) ==
        std::vector{unavailable, unavailable});
  REQUIRE(failed != nullptr);
  CHECK(std::string(failed) == "write");
  CHECK(d.count("SELECT count(*) FROM deliveries") == 1);  // b rolled back
  CHECK(sqlite3_get_autocommit(d.db) != 0);                // no transaction left open
  // Once the cause is gone, the same batch is kept.
  REQUIRE(sqlite3_exec(d.db, "DROP TRIGGER refuse", nullptr, nullptr, nullptr) == SQLITE_OK);
  REQUIRE(batch.prepare(d.db));
  CHECK(write(batch, {delivery("b"), consent("r", change::received, 100)}) == std::vector{kept, kept});
  batch.finalize();
}

TEST_CASE("a write lock held by another connection fails the batch at begin") {
  // A shared in-memory database, two connections: the second holds the
  // write lock, the batch's BEGIN IMMEDIATE cannot take it.
  sqlite3* mine = nullptr;
  sqlite3* other = nullptr;
  const char* uri = "file:unit-journal-batch?mode=memory&cache=shared";
  REQUIRE(sqlite3_open_v2(uri, &mine, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_URI, nullptr) == SQLITE_OK);
  REQUIRE(sqlite3_open_v2(uri, &other, SQLITE_OPEN_READWRITE | SQLITE_OPEN_URI, nullptr) == SQLITE_OK);
  REQUIRE(sqlite3_exec(mine, gw::journal_schema, nullptr, nullptr, nullptr) == SQLITE_OK);
  gw::journal_batch batch;
  REQUIRE(batch.prepare(mine));
  REQUIRE(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) == SQLITE_OK);
  std::vector<const gw::record*> one;
  const gw::record r = delivery("a");
  one.push_back(&r);
  std::array<gw::stored, 1> verdict{kept};
  std::string why;
  const char* failed = batch.write(one, verdict, why);
  REQUIRE(failed != nullptr);
  CHECK(std::string(failed) == "begin");
  CHECK(verdict[0] == unavailable);
  CHECK_FALSE(why.empty());
  REQUIRE(sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr) == SQLITE_OK);
  CHECK(batch.write(one, verdict, why) == nullptr);
  CHECK(verdict[0] == kept);
  batch.finalize();
  sqlite3_close_v2(other);
  sqlite3_close_v2(mine);
}
