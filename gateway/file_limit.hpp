// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
//
// file_limit: the process's open-file limit (RLIMIT_NOFILE) against what
// --max-connections needs, checked once at start.
#pragma once

#include <cstddef>
#include <string>

namespace fiskil::gateway {

// file_limit_margin is the descriptors the gateway holds besides its
// connections: the listeners, the journal and its WAL, the event loop's,
// the logs', a connection being refused over --max-connections.
inline constexpr std::size_t file_limit_margin = 64;

// ensure_file_limit makes RLIMIT_NOFILE's soft limit at least
// max_connections + file_limit_margin, raising it up to the hard limit when
// needed (raised then says "FROM->TO"). Returns false when the hard limit
// is too low, with error naming both numbers.
bool ensure_file_limit(std::size_t max_connections, std::string& raised, std::string& error);

}  // namespace fiskil::gateway
