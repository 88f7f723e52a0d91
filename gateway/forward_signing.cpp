// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
#include "forward_signing.hpp"

#include "secret_file.hpp"

namespace fiskil::gateway {

namespace fw = ::fiskil::webhooks;

namespace {

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
  std::string text;
  if (!read_secret_file(path, text, error)) return std::nullopt;
  std::string why;
  std::optional<fw::signing_key> key = forward_key(text, why);
  wipe_secret(text);
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
