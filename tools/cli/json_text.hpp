// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
//
// Writing JSON text for fiskil-webhook's one-line output.
#pragma once

#include <string>
#include <string_view>

namespace cli {

// append_json_string appends text to out as a JSON string literal, quotes
// included. '"', '\\' and control characters are escaped; valid UTF-8 is
// copied as is; a byte that is not part of valid UTF-8 (possible in a file
// name, never in a parsed id) becomes U+FFFD, so the output is always valid
// JSON.
void append_json_string(std::string& out, std::string_view text);

}  // namespace cli
