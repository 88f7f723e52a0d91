// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
//
// Shared by the unit tests: reading files, the sample manifests, hex.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <simdjson.h>

namespace test_support {

namespace fs = std::filesystem;

inline std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

inline fs::path env_path(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr ? fs::path(value) : fs::path();
}

// fixtures_dir is the project's own samples (always present);
// shared_corpus_dir and shared_testdata_dir are ../shared's, empty when absent.
inline fs::path fixtures_dir() { return env_path("FISKIL_FIXTURES"); }
inline fs::path shared_corpus_dir() {
  const fs::path p = env_path("FISKIL_SHARED_CORPUS");
  return !p.empty() && fs::exists(p / "manifest.tsv") ? p : fs::path();
}
inline fs::path shared_testdata_dir() {
  const fs::path p = env_path("FISKIL_SHARED_TESTDATA");
  return !p.empty() && fs::exists(p) ? p : fs::path();
}

struct sample {
  std::string name;
  std::map<std::string, std::string> columns;
  std::string body;
  std::string secret;  // the base64 secret that signed it
  [[nodiscard]] const std::string& operator[](const std::string& column) const {
    static const std::string none;
    auto it = columns.find(column);
    return it == columns.end() ? none : it->second;
  }
  [[nodiscard]] bool has(const std::string& column) const { return columns.count(column) != 0; }
};

inline std::vector<std::string> split(std::string_view text, char sep) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (true) {
    const std::size_t end = text.find(sep, start);
    parts.emplace_back(text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return parts;
}

// load_samples reads manifest.tsv (name, event, signature, note, and in the
// project's own fixtures the expected fields) and each body. The sample
// named rotated_secret is signed with secret_rotated.b64.
inline std::vector<sample> load_samples(const fs::path& dir) {
  std::vector<sample> samples;
  if (dir.empty()) return samples;
  const std::string secret = read_file(dir / "secret.b64");
  const std::string rotated = read_file(dir / "secret_rotated.b64");
  std::istringstream manifest(read_file(dir / "manifest.tsv"));
  std::string line;
  std::vector<std::string> header;
  while (std::getline(manifest, line)) {
    if (line.empty()) continue;
    std::vector<std::string> cells = split(line, '\t');
    if (header.empty()) {
      header = cells;
      continue;
    }
    sample s;
    for (std::size_t i = 0; i < header.size() && i < cells.size(); ++i) s.columns[header[i]] = cells[i];
    s.name = s.columns["name"];
    s.body = read_file(dir / (s.name + ".json"));
    s.secret = s.name == "rotated_secret" ? rotated : secret;
    samples.push_back(std::move(s));
  }
  return samples;
}

inline std::vector<unsigned char> from_hex(std::string_view hex) {
  std::vector<unsigned char> bytes;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
    bytes.push_back(static_cast<unsigned char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  return bytes;
}

// array_at returns obj[key] as an array held by value, so a range-for over it
// does not bind to a temporary simdjson_result.
inline simdjson::dom::array array_at(simdjson::dom::element obj, std::string_view key) {
  simdjson::dom::array array;
  if (obj[key].get_array().get(array) != simdjson::SUCCESS) return {};
  return array;
}

}  // namespace test_support
