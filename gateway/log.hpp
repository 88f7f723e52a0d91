// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
//
// Structured logs: one line per event on standard error, logfmt
// (time=... level=... event=... key=value ...). Never a secret or a MAC.
#pragma once

#include <initializer_list>
#include <span>
#include <string_view>
#include <utility>

namespace fiskil::gateway {

using log_field = std::pair<std::string_view, std::string_view>;

// log writes one line: level ("info", "warn", "error"), event name, fields.
// Values with spaces, quotes or '=' are quoted. Safe from any thread; the
// line is written with one write(2).
void log(std::string_view level, std::string_view event, std::initializer_list<log_field> fields = {});
void log(std::string_view level, std::string_view event, std::span<const log_field> fields);

}  // namespace fiskil::gateway
