// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
//
// url_redaction: keeps credentials written into URLs (nats://user:pass@host,
// nats://token@host) out of logs and error messages.
#pragma once

#include <string>
#include <string_view>

namespace fiskil::gateway {

// redact_url_credentials returns text with the user information of every
// URL in it ("scheme://USERINFO@host") replaced by "***", so
// "nats://u:p@h:4222,nats://t@h2" becomes "nats://***@h:4222,nats://***@h2".
// Text without "://" is returned unchanged.
std::string redact_url_credentials(std::string_view text);

// url_has_credentials is true when some URL in text has user information.
bool url_has_credentials(std::string_view text);

}  // namespace fiskil::gateway
