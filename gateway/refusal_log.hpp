// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
//
// refusal_log: the log lines of refused requests, rate-limited per kind, so
// that a flood of bad requests cannot flood the logs (or stall the threads
// writing them).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <mutex>
#include <span>
#include <string>
#include <string_view>

#include "log.hpp"

namespace fiskil::gateway {

// peer_text is the address of peer (4 or 16 bytes, network order) as text;
// "unknown" for any other size.
std::string peer_text(std::span<const unsigned char> peer);

// refusal_log writes at most per_second lines per second for each kind (an
// index below max_kinds, such as the receiver's outcome); the lines over
// that are counted, and the next line written for the kind carries
// suppressed=COUNT. Safe from any thread.
class refusal_log {
 public:
  static constexpr std::size_t max_kinds = 16;

  explicit refusal_log(std::size_t per_second) noexcept : per_second_(per_second) {}

  void write(std::size_t kind, std::string_view level, std::string_view event, std::initializer_list<log_field> fields);

 private:
  struct slot {
    std::mutex mutex;
    std::int64_t second = -1;     // the window, in whole seconds of the steady clock
    std::size_t written = 0;      // lines written in it
    std::uint64_t suppressed = 0; // lines not written since the last one written
  };
  std::size_t per_second_;
  std::array<slot, max_kinds> slots_;
};

}  // namespace fiskil::gateway
