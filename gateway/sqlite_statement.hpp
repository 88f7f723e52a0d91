// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
//
// sqlite_statement: one prepared SQLite statement, finalized with its owner.
#pragma once

#include <cstdint>
#include <string_view>

#include <sqlite3.h>

namespace fiskil::gateway {

// sqlite_statement owns one prepared statement. Bound text and blobs are
// not copied (SQLITE_STATIC): they must outlive the step that reads them.
class sqlite_statement {
 public:
  sqlite_statement() = default;
  sqlite_statement(const sqlite_statement&) = delete;
  sqlite_statement& operator=(const sqlite_statement&) = delete;
  ~sqlite_statement() { sqlite3_finalize(stmt_); }

  // prepare compiles sql on db, for repeated use. Returns false on error
  // (sqlite3_errmsg(db) says why), leaving no statement.
  bool prepare(sqlite3* db, const char* sql) {
    finalize();
    return sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr) == SQLITE_OK;
  }
  void finalize() {
    sqlite3_finalize(stmt_);
    stmt_ = nullptr;
  }
  [[nodiscard]] sqlite3_stmt* get() const { return stmt_; }
  // reset makes it ready to run again and clears its bindings.
  void reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  void text(int i, std::string_view s) { sqlite3_bind_text(stmt_, i, s.data(), static_cast<int>(s.size()), SQLITE_STATIC); }
  void blob(int i, std::string_view s) { sqlite3_bind_blob(stmt_, i, s.data(), static_cast<int>(s.size()), SQLITE_STATIC); }
  void integer(int i, std::int64_t v) { sqlite3_bind_int64(stmt_, i, v); }
  int step() { return sqlite3_step(stmt_); }

 private:
  sqlite3_stmt* stmt_ = nullptr;
};

}  // namespace fiskil::gateway
