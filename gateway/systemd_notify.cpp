// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
#include "systemd_notify.hpp"

#include <time.h>

#include <cstdint>
#include <string>

#if FISKIL_GATEWAY_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

namespace fiskil::gateway {

namespace {

void send([[maybe_unused]] const std::string& state) {
#if FISKIL_GATEWAY_SYSTEMD
  sd_notify(0, state.c_str());
#endif
}

}  // namespace

void notify_ready(std::string_view status) { send("READY=1\nSTATUS=" + std::string(status)); }

void notify_reloading() {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  const std::uint64_t usec = static_cast<std::uint64_t>(now.tv_sec) * 1'000'000 + static_cast<std::uint64_t>(now.tv_nsec) / 1000;
  send("RELOADING=1\nSTATUS=reloading\nMONOTONIC_USEC=" + std::to_string(usec));
}

void notify_stopping() { send("STOPPING=1\nSTATUS=stopping"); }

watchdog::watchdog(std::function<void(std::function<void()>)> post) : post_(std::move(post)) {
#if FISKIL_GATEWAY_SYSTEMD
  std::uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) period_ = std::chrono::microseconds{usec / 2};
#endif
  if (period_.count() > 0) thread_ = std::thread([this] { run(); });
}

void watchdog::stop() {
  {
    const std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void watchdog::run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    if (probe_ran_->exchange(false)) {
      send("WATCHDOG=1");
      post_([ran = probe_ran_] { ran->store(true); });
    }
    wake_.wait_for(lock, period_, [this] { return stopping_; });
  }
}

}  // namespace fiskil::gateway
