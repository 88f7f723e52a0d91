// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
//
// fiskil-webhook send: delivers signed webhooks to an endpoint as the
// provider does (retries 1 to 10 minutes apart, duplicates, reordering), or
// as a load generator. Usage in send_help.
#pragma once

#include <span>
#include <string_view>

namespace cli {

// send_help is the text of fiskil-webhook send --help.
extern const std::string_view send_help;

// run_send runs the command with the arguments after "send" and returns the
// exit status: 0 every delivery was finally answered 2xx (a tampered one:
// refused with 4xx), 1 otherwise, 64 usage error, 66 an input file missing
// or unreadable.
int run_send(std::span<char* const> args);

}  // namespace cli
