// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
#include "refusal_log.hpp"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <vector>

namespace fiskil::gateway {

std::string peer_text(std::span<const unsigned char> peer) {
  char text[INET6_ADDRSTRLEN] = {};
  if (peer.size() == 4 && ::inet_ntop(AF_INET, peer.data(), text, sizeof text) != nullptr) return text;
  if (peer.size() == 16 && ::inet_ntop(AF_INET6, peer.data(), text, sizeof text) != nullptr) return text;
  return "unknown";
}

void refusal_log::write(std::size_t kind, std::string_view level, std::string_view event,
                        std::initializer_list<log_field> fields) {
  slot& s = slots_[std::min(kind, max_kinds - 1)];
  const std::int64_t second =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
  std::uint64_t carried = 0;
  {
    const std::lock_guard lock(s.mutex);
    if (second != s.second) {
      s.second = second;
      s.written = 0;
    }
    if (s.written >= per_second_) {
      ++s.suppressed;
      return;
    }
    ++s.written;
    carried = s.suppressed;
    s.suppressed = 0;
  }
  if (carried == 0) return log(level, event, fields);
  std::vector<log_field> all(fields);
  const std::string count = std::to_string(carried);
  all.emplace_back("suppressed", count);
  log(level, event, all);
}

}  // namespace fiskil::gateway
