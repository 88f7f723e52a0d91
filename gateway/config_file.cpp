// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
#include "config_file.hpp"

#include <algorithm>
#include <cstdint>
#include <set>
#include <string_view>

#include <toml++/toml.h>

namespace fiskil::gateway {

namespace {

// entry is one flag from the file: its tokens for parse_flags.
struct entry {
  std::string name, value, origin;
  std::uint32_t line = 0;
  std::vector<std::string> tokens;
  bool boolean_false = false;  // "name = false": valid for valueless flags only (then nothing to apply)
};

std::string origin_of(const std::string& path, const toml::source_region& where) {
  return path + ":" + std::to_string(where.begin.line) + ":" + std::to_string(where.begin.column);
}

// scalar turns a TOML value into a flag's text; false when it is not a
// string, integer or boolean.
bool scalar(const toml::node& node, std::string& text, bool& is_bool, bool& bool_value) {
  is_bool = false;
  if (const auto* s = node.as_string()) {
    text = s->get();
    return true;
  }
  if (const auto* i = node.as_integer()) {
    text = std::to_string(i->get());
    return true;
  }
  if (const auto* b = node.as_boolean()) {
    is_bool = true;
    bool_value = b->get();
    return true;
  }
  return false;
}

bool read_file(const std::string& path, std::vector<entry>& out, std::string& message) {
  toml::table table;
  try {
    table = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    const auto& where = e.source();
    message = where.begin.line == 0 ? path + ": " + std::string(e.description())  // cannot be opened
                                    : path + ":" + std::to_string(where.begin.line) + ":" +
                                          std::to_string(where.begin.column) + ": " + std::string(e.description());
    return false;
  }
  for (const auto& [key, node] : table) {
    const std::string name(key.str());
    const std::string origin = origin_of(path, key.source());
    const auto refuse = [&](std::string_view why) {
      message = origin + ": key '" + name + "': " + std::string(why);
      return false;
    };
    if (name == "config" || name == "help") return refuse("not a flag the file can hold");
    std::vector<const toml::node*> values;
    if (const auto* array = node.as_array()) {
      for (const auto& element : *array) values.push_back(&element);
    } else {
      values.push_back(&node);
    }
    for (const toml::node* value : values) {
      entry e{name, {}, origin, key.source().begin.line, {}, false};
      bool is_bool = false, bool_value = false;
      if (!scalar(*value, e.value, is_bool, bool_value))
        return refuse("expected a string, a whole number, a boolean or an array of them");
      if (is_bool) {
        e.tokens = {"--" + name};
        e.boolean_false = !bool_value;
      } else {
        e.tokens = {"--" + name + "=" + e.value};
      }
      out.push_back(std::move(e));
    }
  }
  // In the file's order (a table iterates by key).
  std::stable_sort(out.begin(), out.end(), [](const entry& a, const entry& b) { return a.line < b.line; });
  return true;
}

// flag_name is "name" for "--name" or "--name=value"; empty otherwise.
std::string flag_name(std::string_view token) {
  if (token.size() < 3 || token.substr(0, 2) != "--") return {};
  token.remove_prefix(2);
  return std::string(token.substr(0, token.find('=')));
}

}  // namespace

parse_result parse_arguments(const std::vector<std::string>& args, config& out, std::string& message,
                             file_flags* from_file) {
  std::string path;
  std::vector<std::string> command;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--help" || args[i] == "-h") return parse_result::help;
    if (args[i] == "--config") {
      if (i + 1 >= args.size()) {
        message = "--config needs a value";
        return parse_result::error;
      }
      path = args[++i];
    } else if (args[i].rfind("--config=", 0) == 0) {
      path = args[i].substr(9);
    } else {
      command.push_back(args[i]);
    }
  }
  std::size_t failed_at = 0;
  if (!path.empty()) {
    std::vector<entry> entries;
    if (!read_file(path, entries, message)) return parse_result::error;
    std::set<std::string> given;
    for (const std::string& token : command) given.insert(flag_name(token));
    for (const entry& e : entries) {
      // Checked even when the command line overrides it: a bad file is refused.
      config scratch;
      std::string why;
      const parse_result checked = parse_flags(e.tokens, scratch, why, failed_at);
      if (checked != parse_result::run) {
        // A valueless flag given a value: say so rather than "unknown flag".
        config other;
        std::string ignored;
        if (e.tokens.front().find('=') != std::string::npos &&
            parse_flags({"--" + e.name}, other, ignored, failed_at) == parse_result::run)
          why = "expected true or false (got '" + e.value + "')";
        message = e.origin + ": key '" + e.name + "': " + (checked == parse_result::help ? "not a flag" : why);
        return parse_result::error;
      }
      if (e.boolean_false) continue;  // a valueless flag's default
      if (given.count(e.name) != 0) continue;
      parse_flags(e.tokens, out, why, failed_at);
      if (from_file != nullptr) (*from_file)[e.name].push_back(e.value);
    }
    out.config_file = path;
  }
  const parse_result flags = parse_flags(command, out, message, failed_at);
  return flags == parse_result::run ? finish_config(out, message) : flags;
}

}  // namespace fiskil::gateway
