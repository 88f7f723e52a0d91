// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
//
// signals: SIGHUP (reload) and SIGTERM/SIGINT (stop), handled on a thread of
// their own with sigwait, never in a signal handler.
#pragma once

#include <atomic>
#include <functional>
#include <thread>

namespace fiskil::gateway {

// block_signals blocks SIGHUP, SIGTERM and SIGINT in the calling thread and
// in every thread it starts afterwards, and ignores SIGPIPE and SIGXFSZ (a
// write past the file size limit then fails with EFBIG, which the journal
// reports, instead of killing the process). Call it first in main.
void block_signals();

// signal_thread calls on_reload for each SIGHUP and on_stop for the first
// SIGTERM or SIGINT, from its own thread, until stop().
class signal_thread {
 public:
  signal_thread(std::function<void()> on_reload, std::function<void()> on_stop);
  ~signal_thread() { stop(); }
  signal_thread(const signal_thread&) = delete;
  signal_thread& operator=(const signal_thread&) = delete;
  void stop();

 private:
  void run();
  std::function<void()> on_reload_, on_stop_;
  std::atomic<bool> done_{false};
  std::thread thread_;
};

}  // namespace fiskil::gateway
