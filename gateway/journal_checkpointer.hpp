// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
//
// journal_checkpointer: moves the journal's WAL into the database file on a
// thread and a connection of its own, so that the writer's commits never
// wait for a checkpoint (the writer runs with wal_autocheckpoint off).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

struct sqlite3;

namespace fiskil::gateway {

// journal_checkpointer runs PASSIVE checkpoints of the journal at path when
// asked (request()) and the WAL holds at least threshold_frames frames. A
// PASSIVE checkpoint never blocks the writer or readers: it copies what no
// reader still needs, and the writer restarts the WAL from its start once a
// checkpoint has copied everything (journal_size_limit then trims the file).
class journal_checkpointer {
 public:
  journal_checkpointer(std::string path, int threshold_frames);
  ~journal_checkpointer();
  journal_checkpointer(const journal_checkpointer&) = delete;
  journal_checkpointer& operator=(const journal_checkpointer&) = delete;

  // wal_hook is installed on the writer's connection with sqlite3_wal_hook:
  // after each commit it asks for a checkpoint when the WAL has grown past
  // the threshold. arg is the checkpointer.
  static int wal_hook(void* arg, sqlite3* db, const char* name, int frames);

  // request asks for a checkpoint (no-op while one is due already).
  void request() noexcept;

  [[nodiscard]] std::uint64_t checkpoints() const noexcept;

 private:
  void run();

  const std::string path_;
  const int threshold_frames_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool due_ = false, stopping_ = false;
  std::uint64_t checkpoints_ = 0;
  std::thread thread_;
};

}  // namespace fiskil::gateway
