// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
#include "url_redaction.hpp"

namespace fiskil::gateway {

namespace {

// userinfo_end: for the authority starting at from, the position of the '@'
// that ends its user information, or npos when it has none. The authority
// ends at '/', '?', '#', ',', a blank or a quote.
std::size_t userinfo_end(std::string_view text, std::size_t from) {
  std::size_t at = std::string_view::npos;
  for (std::size_t i = from; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '/' || c == '?' || c == '#' || c == ',' || c == ' ' || c == '\t' || c == '\n' || c == '"' ||
        c == '\'')
      break;
    if (c == '@') at = i;  // the last '@': a password may hold one
  }
  return at;
}

}  // namespace

std::string redact_url_credentials(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t scheme = text.find("://", pos);
    if (scheme == std::string_view::npos) break;
    const std::size_t start = scheme + 3;
    out.append(text.substr(pos, start - pos));
    const std::size_t at = userinfo_end(text, start);
    if (at != std::string_view::npos) {
      out += "***";
      pos = at;  // the '@' and the host follow
    } else {
      pos = start;
    }
  }
  out.append(text.substr(pos));
  return out;
}

bool url_has_credentials(std::string_view text) {
  for (std::size_t scheme = text.find("://"); scheme != std::string_view::npos; scheme = text.find("://", scheme + 3))
    if (userinfo_end(text, scheme + 3) != std::string_view::npos) return true;
  return false;
}

}  // namespace fiskil::gateway
