// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
//
// Structured logs: one line per event on standard error, logfmt
// (time=... level=... event=... key=value ...) or JSON
// ({"time":...,"level":...,"event":...,"key":"value"}). Never a secret or a MAC.
#pragma once

#include <initializer_list>
#include <span>
#include <string_view>
#include <utility>

namespace fiskil::gateway {

using log_field = std::pair<std::string_view, std::string_view>;

// log writes one line: level ("debug", "info", "warn", "error"), event name,
// fields, unless level is below the one set_log_level set. In logfmt, values
// with spaces, quotes or '=' are quoted; in JSON every value is a string,
// escaped (control characters as \u00XX, bytes that are not UTF-8 as
// U+FFFD). Safe from any thread; the line is written with one write(2).
void log(std::string_view level, std::string_view event, std::initializer_list<log_field> fields = {});
void log(std::string_view level, std::string_view event, std::span<const log_field> fields);

// log_enabled says whether a line of this level would be written (to skip
// building a debug line's fields).
bool log_enabled(std::string_view level) noexcept;

// set_log_level sets the lowest level written: "debug", "info" (the
// default), "warn" or "error". Returns false, changing nothing, for another
// name. Safe from any thread (SIGHUP changes it).
bool set_log_level(std::string_view level) noexcept;

// set_log_format sets the lines' format: "logfmt" (the default) or "json".
// Returns false, changing nothing, for another name. Call it before threads
// start logging.
bool set_log_format(std::string_view format) noexcept;

}  // namespace fiskil::gateway
