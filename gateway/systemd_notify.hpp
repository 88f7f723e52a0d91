// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
//
// systemd_notify: systemd's notify protocol (Type=notify, sd_notify(3)) and
// its watchdog (docs/operations.md, "Running under systemd"). Every call is
// a no-op when the build has no libsystemd or NOTIFY_SOCKET is not set.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string_view>
#include <thread>

namespace fiskil::gateway {

// notify_ready sends READY=1 (and STATUS=status): the gateway serves.
void notify_ready(std::string_view status);

// notify_reloading sends RELOADING=1 (with MONOTONIC_USEC); send
// notify_ready once the reload is done, whether it failed or not.
void notify_reloading();

// notify_stopping sends STOPPING=1.
void notify_stopping();

// watchdog sends WATCHDOG=1 every half of WatchdogSec while the I/O loop
// runs the probes it posts: a thread posts a probe each half period
// (through post) and pets the watchdog only when the previous probe ran, so
// a stalled loop lets systemd's watchdog fire. Started only when
// sd_watchdog_enabled says so (WATCHDOG_USEC, and WATCHDOG_PID when set);
// otherwise does nothing. post must stay callable until stop().
class watchdog {
 public:
  explicit watchdog(std::function<void(std::function<void()>)> post);
  ~watchdog() { stop(); }
  watchdog(const watchdog&) = delete;
  watchdog& operator=(const watchdog&) = delete;

  // stop ends the thread (no WATCHDOG=1 after it returns).
  void stop();

  // period is half of WatchdogSec; zero when the watchdog is off.
  [[nodiscard]] std::chrono::microseconds period() const noexcept { return period_; }

 private:
  void run();
  std::function<void(std::function<void()>)> post_;
  std::chrono::microseconds period_{0};
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  // Set by the last probe; shared with probes still queued when stop() returns.
  std::shared_ptr<std::atomic<bool>> probe_ran_ = std::make_shared<std::atomic<bool>>(true);
  std::thread thread_;
};

}  // namespace fiskil::gateway
