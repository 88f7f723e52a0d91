// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
//
// config_file: --config FILE, a TOML file whose keys are the flags' names
// (docs/operations.md, "The config file"). The file is turned into the flag
// list parse_flags already reads, so every flag works in it.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "config.hpp"

namespace fiskil::gateway {

// file_flags maps a flag's name (without "--") to the values the --config
// file gave it and that were applied (a flag on the command line overrides
// the file's entry, which is then absent here). A valueless flag set to true
// has one empty value.
using file_flags = std::map<std::string, std::vector<std::string>>;

// parse_arguments reads args (the command line without the program name):
// first the file named by --config FILE, if any, then the other flags, which
// override the file's (a repeatable flag given on the command line replaces
// all of the file's values for it); then finish_config. On error, message
// says why; for the file, as "FILE:LINE:COLUMN: key 'NAME': why". out.config_file
// is the file's path. from_file, when not null, receives the applied file flags.
parse_result parse_arguments(const std::vector<std::string>& args, config& out, std::string& message,
                             file_flags* from_file = nullptr);

}  // namespace fiskil::gateway
