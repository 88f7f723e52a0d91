// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
//
// forward_client: one keep-alive HTTP/1.1 connection to the application
// (Boost.Beast), used by one forwarder worker at a time; the forwarder holds
// --forward-concurrency of them. Each attempt has one deadline
// (--forward-timeout) from connecting to the end of the response.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "forward_schedule.hpp"

namespace fiskil::gateway {

// forward_url is a parsed --forward URL: http[s]://HOST[:PORT][/PATH].
struct forward_url {
  std::string host;
  std::string port = "80";  // 443 for https
  std::string target = "/";
  bool tls = false;         // https
  // parse accepts http and https URLs.
  static bool parse(std::string_view text, forward_url& out, std::string& error);
};

// forward_tls is the TLS client configuration of https destinations: the
// system's trust store, plus --forward-ca-file when given. Shared by the
// connections (thread-safe once made).
struct forward_tls;

// forward_tls_context makes it; null, with error, when the CA file cannot be
// loaded.
std::shared_ptr<forward_tls> forward_tls_context(const std::string& ca_file, std::string& error);

// forward_request is one attempt's request: POST, the body byte for byte.
struct forward_request {
  std::string_view message_id, event, body, signature;
  std::int64_t timestamp = 0;  // unix seconds, webhook-timestamp
  int attempt = 1;             // X-Fiskil-Delivery-Attempt
};

// forward_response is what came back.
struct forward_response {
  int status = 0;                    // 0: no HTTP answer
  attempt_class result = attempt_class::connection;
  std::string retry_after;           // the Retry-After header, if any
  std::string error;                 // without an HTTP answer: why
  bool interrupted = false;          // stopped by interrupt(): nothing to record
};

class forward_connection {
 public:
  // forward_connection: tls must be set for an https url (the certificate
  // is verified against it, and must name the host).
  explicit forward_connection(forward_url url, std::shared_ptr<forward_tls> tls = nullptr);
  ~forward_connection();
  forward_connection(const forward_connection&) = delete;
  forward_connection& operator=(const forward_connection&) = delete;

  // send makes one attempt, reusing the open connection when there is one
  // (a reused connection the app had closed is reopened once at no cost).
  forward_response send(const forward_request& request, std::chrono::nanoseconds timeout);

  // interrupt makes a send in progress (and every later one) return
  // interrupted. Safe from any thread.
  void interrupt();

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace fiskil::gateway
