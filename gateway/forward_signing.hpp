// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
//
// forward_signing: the Standard Webhooks signature of a forwarded request
// (https://www.standardwebhooks.com): webhook-signature: v1,<base64
// HMAC-SHA256(secret, "<id>.<timestamp>.<body>")>. No secret or signature is
// ever logged.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <fiskil/webhooks.hpp>

namespace fiskil::gateway {

// forward_key reads a Standard Webhooks secret: "whsec_" followed by
// base64, or plain base64 (surrounding whitespace ignored). The key is the
// decoded bytes. On failure, error says why (never the secret).
std::optional<::fiskil::webhooks::signing_key> forward_key(std::string_view secret, std::string& error);

// forward_key_from_file reads the file with read_secret_file (refused when
// group- or world-accessible), then forward_key; the text is wiped.
std::optional<::fiskil::webhooks::signing_key> forward_key_from_file(const std::string& path, std::string& error);

// standard_signature is the webhook-signature header value: "v1," and the
// base64 HMAC-SHA256 of "<id>.<timestamp>.<body>".
std::string standard_signature(const ::fiskil::webhooks::signing_key& key, std::string_view id,
                               std::int64_t timestamp_seconds, std::string_view body);

}  // namespace fiskil::gateway
