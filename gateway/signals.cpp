// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
#include "signals.hpp"

#include <pthread.h>
#include <signal.h>

#include <csignal>
#include <ctime>

namespace fiskil::gateway {

namespace {

sigset_t handled() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGHUP);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  return set;
}

}  // namespace

void block_signals() {
  const sigset_t set = handled();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
  std::signal(SIGXFSZ, SIG_IGN);
}

signal_thread::signal_thread(std::function<void()> on_reload, std::function<void()> on_stop)
    : on_reload_(std::move(on_reload)), on_stop_(std::move(on_stop)), thread_([this] { run(); }) {}

void signal_thread::stop() {
  done_.store(true);
  if (thread_.joinable()) thread_.join();
}

void signal_thread::run() {
  const sigset_t set = handled();
  bool stopped = false;
  while (!done_.load()) {
    const timespec wait{0, 200'000'000};
    const int signal = sigtimedwait(&set, nullptr, &wait);
    if (signal == SIGHUP) {
      on_reload_();
    } else if ((signal == SIGTERM || signal == SIGINT) && !stopped) {
      stopped = true;
      on_stop_();
    }
  }
}

}  // namespace fiskil::gateway
