// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
//
// server: the HTTP/1.1 server (Boost.Beast on Asio): accepts connections,
// reads requests within the limits, hands complete requests to routes and
// writes their answers. The only file that includes Beast.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace fiskil::gateway {

class metrics;
class routes;

// server_options are the server's limits.
struct server_options {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;
  unsigned threads = 1;
  std::size_t max_connections = 1024;
  std::size_t max_body_size = std::size_t{1} << 20;
  std::size_t max_header_size = 8192;
  std::chrono::nanoseconds read_timeout = std::chrono::seconds{10};  // one request, from its first byte
  std::chrono::nanoseconds idle_timeout = std::chrono::seconds{60};  // keep-alive, between requests
  std::string tls_cert, tls_key;  // PEM files: serve HTTPS (when tls_available())
  std::string admin_host;         // --admin-listen: when not empty, a second, plain-HTTP listener for
  std::uint16_t admin_port = 0;   // /metrics, /healthz, /readyz (the delivery listener then serves no /metrics)
};

// server serves routes, on one listener, or two with admin_host (the admin
// one plain HTTP; requests carry their listener_role). A delivery from a
// source routes::refuse_early refuses is answered 403 on its headers, before
// its body is read, and closed. HEAD gets GET's headers and no body. A
// failing accept (EMFILE) is retried after 50 ms doubling to 1 s. A request larger than max_body_size (by its
// Content-Length, or its chunks as they arrive) is answered 413 before its
// body is read; headers over max_header_size 431; a malformed request 400;
// a POST without a length 411; all four close the connection. A request
// (headers and body) that does not arrive within read_timeout of its first
// byte closes the connection (a read timeout); so does a keep-alive
// connection idle for idle_timeout between requests (an idle close), and a
// new connection that sends nothing (or no TLS handshake) within
// read_timeout (an idle close, a handshake failure). Past
// max_connections, a new connection is answered 503 and closed.
class server {
 public:
  server(const server_options& options, routes& handler, metrics& counters);
  ~server();
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  // tls_available says whether this build can serve HTTPS (both crypto
  // backends can: each with its own libssl).
  static bool tls_available() noexcept;

  // listen loads the TLS certificate and key when given, binds and listens. Returns false and sets error on failure;
  // bound is then "HOST:PORT" as bound (the port chosen when 0 was asked).
  bool listen(std::string& bound, std::string& error);

  // reload_tls re-reads --tls-cert and --tls-key (SIGHUP): new connections
  // use the new pair, open ones keep theirs. On failure error says why and
  // the pair in service is kept. True without TLS.
  bool reload_tls(std::string& error);

  // admin_bound is the admin listener's "HOST:PORT" as bound once listen()
  // returned true; empty without admin_host.
  [[nodiscard]] const std::string& admin_bound() const noexcept;

  // run serves on options.threads threads until stop(), then waits for the
  // requests in flight (at most 30 s), and returns.
  void run();

  // stop stops accepting and makes run() return once the requests in
  // flight are answered. Safe from any thread, also before run().
  void stop();

  // post runs task on one of the I/O threads (the systemd watchdog's proof
  // that they serve). Safe from any thread; a task posted after run()
  // returned never runs.
  void post(std::function<void()> task);

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace fiskil::gateway
