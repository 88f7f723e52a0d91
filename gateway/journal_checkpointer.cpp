// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
#include "journal_checkpointer.hpp"

#include <sqlite3.h>

#include "log.hpp"
#include "thread_name.hpp"

namespace fiskil::gateway {

journal_checkpointer::journal_checkpointer(std::string path, int threshold_frames, int bound_frames)
    : path_(std::move(path)), threshold_frames_(threshold_frames), bound_frames_(bound_frames) {
  thread_ = std::thread([this] {
    name_this_thread("fw-checkpoint");
    run();
  });
}

journal_checkpointer::~journal_checkpointer() {
  {
    const std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

int journal_checkpointer::wal_hook(void* arg, sqlite3* db, const char*, int frames) {
  auto* self = static_cast<journal_checkpointer*>(arg);
  int copied = self->copied_.load(std::memory_order_relaxed);
  if (frames < copied) {  // the WAL restarted from its start
    copied = 0;
    self->copied_.store(0, std::memory_order_relaxed);
  }
  if (frames >= self->bound_frames_) {
    // Between two of the writer's transactions nothing new is written: a
    // checkpoint can copy every frame, and the next transaction restarts
    // the WAL. (Its failure is harmless: the next commit tries again.)
    int log_frames = 0, done = 0;
    if (sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_PASSIVE, &log_frames, &done) == SQLITE_OK) {
      self->copied_.store(done, std::memory_order_relaxed);
      self->bound_checkpoints_.fetch_add(1, std::memory_order_relaxed);
    }
  } else if (frames - copied >= self->threshold_frames_) {
    self->request();
  }
  return SQLITE_OK;
}

void journal_checkpointer::request() noexcept {
  {
    const std::lock_guard lock(mutex_);
    if (due_) return;
    due_ = true;
  }
  wake_.notify_one();
}

std::uint64_t journal_checkpointer::checkpoints() const noexcept {
  const std::lock_guard lock(const_cast<std::mutex&>(mutex_));
  return checkpoints_;
}

void journal_checkpointer::run() {
  sqlite3* db = nullptr;
  bool wal_mode = false;
  // Its own connection, opened lazily and never creating the file: the
  // journal made it at start.
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return due_ || stopping_; });
      if (stopping_) break;
    }
    if (db == nullptr && sqlite3_open_v2(path_.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr) !=
                             SQLITE_OK) {
      log("warn", "journal_checkpoint_failed", {{"reason", db != nullptr ? sqlite3_errmsg(db) : "cannot open"}});
      sqlite3_close_v2(db);
      db = nullptr;
    } else if (db != nullptr && !wal_mode) {
      // A new connection learns that the database is in WAL mode when it
      // first reads it; until then a checkpoint does nothing.
      sqlite3_busy_timeout(db, 1000);
      wal_mode = sqlite3_exec(db, "PRAGMA journal_mode", nullptr, nullptr, nullptr) == SQLITE_OK;
    }
    if (db != nullptr && wal_mode) {
      int log_frames = 0, copied = 0;
      const int rc = sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_PASSIVE, &log_frames, &copied);
      if (rc == SQLITE_OK) {
        copied_.store(copied, std::memory_order_relaxed);
      } else if (rc != SQLITE_BUSY) {
        log("warn", "journal_checkpoint_failed", {{"reason", sqlite3_errmsg(db)}});
      }
    }
    const std::lock_guard lock(mutex_);
    due_ = false;
    ++checkpoints_;
  }
  sqlite3_close_v2(db);
}

}  // namespace fiskil::gateway
