// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
//
// fiskil-webhook's --help texts. docs/cli.md repeats the exit statuses;
// tests/cli/run.py checks that the two agree.
#pragma once

#include <string_view>

namespace cli {

extern const std::string_view tool_help;     // fiskil-webhook --help
extern const std::string_view sign_help;     // fiskil-webhook sign --help
extern const std::string_view verify_help;   // fiskil-webhook verify --help
extern const std::string_view inspect_help;  // fiskil-webhook inspect --help

}  // namespace cli
