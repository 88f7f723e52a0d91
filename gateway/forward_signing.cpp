// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
#include "forward_signing.hpp"

#include <cstdio>

namespace fiskil::gateway {

namespace fw = ::fiskil::webhooks;

namespace {

void wipe(std::string& text) noexcept {
  volatile char* p = text.data();
  for (std::size_t i = 0; i < text.size(); ++i) p[i] = 0;
  text.clear();
}

std::string_view trim(std::string_view text) {
  const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!text.empty() && space(text.front())) text.remove_prefix(1);
  while (!text.empty() && space(text.back())) text.remove_suffix(1);
  return text;
}

}  // namespace

std::optional<fw::signing_key> forward_key(std::string_view secret, std::string& error) {
  std::string_view text = trim(secret);
  if (text.substr(0, 6) == "whsec_") text.remove_prefix(6);
  if (text.empty()) {
    error = "empty secret";
    return std::nullopt;
  }
  const fw::result<fw::signing_key> key = fw::signing_key::from_base64(text);
  if (!key) {
    error = "not a whsec_ or base64 secret: " + std::string(key.error().message());
    return std::nullopt;
  }
  return *key;
}

std::optional<fw::signing_key> forward_key_from_file(const std::string& path, std::string& error) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) {
    error = path + ": cannot open";
    return std::nullopt;
  }
  std::string text;
  char chunk[4096];
  std::size_t n = 0;
  while ((n = std::fread(chunk, 1, sizeof chunk, file)) > 0 && text.size() <= (std::size_t{1} << 16))
    text.append(chunk, n);
  for (char& c : chunk) *static_cast<volatile char*>(&c) = 0;
  const bool failed = std::ferror(file) != 0;
  std::fclose(file);
  if (failed || text.size() > (std::size_t{1} << 16)) {
    wipe(text);
    error = path + (failed ? ": read error" : ": larger than 64 KiB");
    return std::nullopt;
  }
  std::string why;
  std::optional<fw::signing_key> key = forward_key(text, why);
  wipe(text);
  if (!key) error = path + ": " + why;
  return key;
}

std::string standard_signature(const fw::signing_key& key, std::string_view id, std::int64_t timestamp_seconds,
                               std::string_view body) {
  std::string content;
  content.reserve(id.size() + body.size() + 24);
  content.append(id);
  content += '.';
  content += std::to_string(timestamp_seconds);
  content += '.';
  content.append(body);
  const fw::signature mac = fw::sign(key, content);
  return "v1," + std::string(mac.view());
}

}  // namespace fiskil::gateway
