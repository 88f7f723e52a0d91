// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
//
// A small command-line scanner for fiskil-webhook's subcommands: long options
// only ("--name VALUE" or "--name=VALUE"), -h/--help, "--" to end options, and
// "-" as the positional that means standard input.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace cli {

// option_spec declares one long option, spelled with its leading "--".
struct option_spec {
  std::string_view name;
  bool takes_value;
};

// given_option is one option as it appeared, in command-line order (the order
// matters: it numbers the secrets).
struct given_option {
  std::string_view name;
  std::string_view value;  // empty for options that take none
};

struct scanned_args {
  std::vector<given_option> options;
  std::vector<std::string_view> positionals;
  bool help = false;  // -h or --help appeared anywhere
};

// scan_args reads args against specs into out. It returns an empty string on
// success, otherwise a one-line message naming the offending argument (an
// unknown option, or an option missing its value). The views in out point
// into args, which outlive the scan (they are argv).
std::string scan_args(std::span<char* const> args, std::span<const option_spec> specs, scanned_args& out);

// count_of says how many times option name was given.
std::size_t count_of(const scanned_args& args, std::string_view name);

// last_value_of returns the value of the last occurrence of name, or an empty
// view when it was not given.
std::string_view last_value_of(const scanned_args& args, std::string_view name);

}  // namespace cli
