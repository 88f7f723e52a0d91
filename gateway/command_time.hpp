// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
//
// command_time: the TIME of the commands' --since (journal replay,
// jetstream replay).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace fiskil::gateway {

// parse_command_time reads RFC 3339 in UTC ("2026-12-03T07:00:00Z",
// fractions ignored) or a duration before now_ns ("90m"), as nanoseconds
// since the epoch.
std::optional<std::int64_t> parse_command_time(const std::string& text, std::int64_t now_ns);

}  // namespace fiskil::gateway
