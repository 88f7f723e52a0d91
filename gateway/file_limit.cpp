// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
#include "file_limit.hpp"

#include <sys/resource.h>

#include <cerrno>
#include <cstring>

namespace fiskil::gateway {

namespace {

std::string text_of(rlim_t value) { return value == RLIM_INFINITY ? "unlimited" : std::to_string(value); }

}  // namespace

bool ensure_file_limit(std::size_t max_connections, std::string& raised, std::string& error) {
  const rlim_t needed = static_cast<rlim_t>(max_connections + file_limit_margin);
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) {
    error = std::string("cannot read RLIMIT_NOFILE: ") + std::strerror(errno);
    return false;
  }
  if (limit.rlim_cur == RLIM_INFINITY || limit.rlim_cur >= needed) return true;
  const std::string wanted = "--max-connections " + std::to_string(max_connections) + " needs " +
                             std::to_string(needed) + " open files (" + std::to_string(max_connections) + " + " +
                             std::to_string(file_limit_margin) + ")";
  if (limit.rlim_max != RLIM_INFINITY && limit.rlim_max < needed) {
    error = wanted + ", but RLIMIT_NOFILE's hard limit is " + text_of(limit.rlim_max) + " (soft " +
            text_of(limit.rlim_cur) +
            "): raise it (ulimit -Hn, systemd's LimitNOFILE=) or lower --max-connections";
    return false;
  }
  const rlim_t before = limit.rlim_cur;
  limit.rlim_cur = needed;
  if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) {
    error = wanted + ", but raising RLIMIT_NOFILE's soft limit from " + text_of(before) + " failed: " +
            std::strerror(errno);
    return false;
  }
  raised = text_of(before) + "->" + text_of(needed);
  return true;
}

}  // namespace fiskil::gateway
