// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
#include "args.hpp"

#include <algorithm>

namespace cli {

std::string scan_args(std::span<char* const> args, std::span<const option_spec> specs, scanned_args& out) {
  bool options_ended = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string_view arg = args[i];
    if (options_ended || arg == "-" || !arg.starts_with("-")) {
      out.positionals.push_back(arg);
      continue;
    }
    if (arg == "--") {
      options_ended = true;
      continue;
    }
    if (arg == "-h" || arg == "--help") {
      out.help = true;
      continue;
    }
    const std::size_t equals = arg.find('=');
    const std::string_view name = arg.substr(0, equals);
    const auto spec = std::find_if(specs.begin(), specs.end(),
                                   [&](const option_spec& s) { return s.name == name; });
    if (spec == specs.end() || !name.starts_with("--")) {
      return "unknown option '" + std::string(name) + "'";
    }
    if (!spec->takes_value) {
      if (equals != std::string_view::npos) return "option " + std::string(name) + " takes no value";
      out.options.push_back({spec->name, {}});
      continue;
    }
    if (equals != std::string_view::npos) {
      out.options.push_back({spec->name, arg.substr(equals + 1)});
    } else if (i + 1 < args.size()) {
      // The next argument is the value whatever it looks like, so that a
      // value starting with '-' cannot be mistaken for an option.
      out.options.push_back({spec->name, args[++i]});
    } else {
      return "option " + std::string(name) + " needs a value";
    }
  }
  return {};
}

std::size_t count_of(const scanned_args& args, std::string_view name) {
  return static_cast<std::size_t>(std::count_if(args.options.begin(), args.options.end(),
                                                [&](const given_option& o) { return o.name == name; }));
}

std::string_view last_value_of(const scanned_args& args, std::string_view name) {
  std::string_view value;
  for (const given_option& o : args.options) {
    if (o.name == name) value = o.value;
  }
  return value;
}

}  // namespace cli
