// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
//
// forward_options: the --forward flags (docs/forward.md).
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

namespace fiskil::gateway {

// forward_options configures the forwarder: where each kept delivery goes,
// how it is signed, and the limits of its retries.
struct forward_options {
  std::string url;          // --forward URL (http[s]://HOST[:PORT]/PATH); empty: no forwarding
  std::string secret_file;  // --forward-secret-file: whsec_<base64> or plain base64
  std::string ca_file;      // --forward-ca-file: PEM CA certificates trusted for https, besides the system's
  std::chrono::nanoseconds timeout = std::chrono::seconds{15};  // --forward-timeout: one attempt, connect to response
  std::size_t concurrency = 8;   // --forward-concurrency: keep-alive connections, attempts at once
  double rate = 0;               // --forward-rate: attempts per second at most; 0: no limit
  int max_attempts = 20;         // --forward-max-attempts: then the delivery is a dead letter
  std::chrono::nanoseconds max_age = std::chrono::hours{24};  // --forward-max-age: from the series' start
  std::chrono::nanoseconds backoff_base = std::chrono::seconds{1};  // --forward-backoff-base: the first retry's delay
  std::chrono::nanoseconds backoff_max = std::chrono::hours{1};     // --forward-backoff-max: the longest delay
  std::chrono::nanoseconds poll = std::chrono::milliseconds{50};    // --forward-poll: new rows are looked for this often
};

}  // namespace fiskil::gateway
