// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
//
// journal_checkpointer: moves the journal's WAL into the database file on a
// thread and a connection of its own, so that the writer's commits never
// wait for a checkpoint (the writer runs with wal_autocheckpoint off).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

struct sqlite3;

namespace fiskil::gateway {

// journal_checkpointer runs PASSIVE checkpoints of the journal at path when
// asked (request()): after a commit that leaves threshold_frames frames in
// the WAL that no checkpoint has copied yet. A PASSIVE checkpoint never
// blocks the writer or readers: it copies what no reader still needs. The
// writer restarts the WAL from its start once a checkpoint has copied
// everything, which a checkpoint running beside a busy writer rarely sees:
// so when the WAL reaches bound_frames, the writer checkpoints it itself,
// between two of its transactions (on the commit path, once per bound), and
// its next transaction restarts the WAL (journal_size_limit then trims the
// file). The WAL stays under about bound_frames pages while no reader holds
// an old snapshot.
class journal_checkpointer {
 public:
  journal_checkpointer(std::string path, int threshold_frames, int bound_frames);
  ~journal_checkpointer();
  journal_checkpointer(const journal_checkpointer&) = delete;
  journal_checkpointer& operator=(const journal_checkpointer&) = delete;

  // wal_hook is installed on the writer's connection with sqlite3_wal_hook:
  // after each commit it asks for a checkpoint when threshold_frames frames
  // wait for one, and checkpoints on db itself at bound_frames. arg is the
  // checkpointer.
  static int wal_hook(void* arg, sqlite3* db, const char* name, int frames);

  // request asks for a checkpoint (no-op while one is due already).
  void request() noexcept;

  // checkpoints: run on the checkpointer's thread; bound_checkpoints: run by
  // the writer at the bound.
  [[nodiscard]] std::uint64_t checkpoints() const noexcept;
  [[nodiscard]] std::uint64_t bound_checkpoints() const noexcept {
    return bound_checkpoints_.load(std::memory_order_relaxed);
  }

 private:
  void run();

  const std::string path_;
  const int threshold_frames_, bound_frames_;
  std::atomic<int> copied_{0};  // WAL frames the last checkpoint had copied (0 after a restart)
  std::atomic<std::uint64_t> bound_checkpoints_{0};
  std::mutex mutex_;
  std::condition_variable wake_;
  bool due_ = false, stopping_ = false;
  std::uint64_t checkpoints_ = 0;
  std::thread thread_;
};

}  // namespace fiskil::gateway
