// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
//
// routes: what the gateway answers to each complete request, independent of
// the HTTP library (the server hands requests in as views).
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "refusal_log.hpp"

namespace fiskil::gateway {

class admission;
class in_flight;
class metrics;
class storage;

// listener_role says which listener a request came in on: the only one
// (all routes), or, with --admin-listen, the delivery listener (the
// deliveries' path and /healthz) or the admin one (/metrics, /healthz,
// /readyz).
enum class listener_role { all, delivery, admin };

// http_request_view is one complete request; the views are valid until the
// respond callback of handle() has been called.
struct http_request_view {
  std::string_view method;
  std::string_view target;
  std::string_view body;
  std::string_view signature;      // X-Fiskil-Signature
  std::string_view forwarded_for;  // every X-Forwarded-For line, joined with ", "
  std::span<const unsigned char> peer;  // the connection's address: 4 or 16 bytes, network order
  listener_role listener = listener_role::all;
};

// http_reply is an answer: status, body, content type, and the Allow header
// for 405.
struct http_reply {
  int status = 200;
  std::string body;
  std::string_view content_type = "application/json";
  std::string_view allow;
  std::string_view retry_after;  // Retry-After (seconds), set on 503s that a retry soon may pass
};

// json_reply builds {"outcome":...} (and "error" when not empty), one line.
http_reply json_reply(int status, std::string_view outcome, std::string_view error);

// routes_options are the routes' settings.
struct routes_options {
  std::string path = "/webhooks/fiskil";
  // ready_pending_age: /readyz fails while a delivery has waited for the
  // store longer than this.
  std::chrono::nanoseconds ready_pending_age = std::chrono::seconds{3};
  // refusal_logs_per_second bounds the delivery_refused lines per outcome.
  std::size_t refusal_logs_per_second = 10;
  // max_pending_bytes bounds the body bytes of deliveries handed to the
  // store and not yet answered by it (queued, being written or published);
  // one more is answered 503 with Retry-After. 0: no bound.
  std::size_t max_pending_bytes = std::size_t{64} << 20;
  // more_metrics, when set, appends to /metrics (the forwarder's).
  std::function<void(std::string&)> more_metrics;
};

// routes answers POST <path> (deliveries), GET /healthz, /readyz, /metrics;
// 405 for other methods on those paths, 404 elsewhere; with --admin-listen,
// 404 for the other listener's routes (see listener_role). admission, store
// and flights are null for the benchmark's empty server, which answers every
// POST to the path 200 without looking at it.
class routes {
 public:
  routes(routes_options options, admission* admit, storage* store, in_flight* flights, metrics& counters) noexcept
      : options_(std::move(options)),
        admission_(admit),
        store_(store),
        flights_(flights),
        metrics_(counters),
        refusals_(options_.refusal_logs_per_second) {}

  // handle calls respond exactly once: at once, or later from the store's
  // thread (for a delivery waiting on the journal), or the deadline's.
  void handle(const http_request_view& request, std::function<void(http_reply)> respond);

  // drain makes /readyz answer 503 from now on (SIGTERM: the load balancer
  // stops sending before the listener closes).
  void drain() noexcept { draining_.store(true, std::memory_order_relaxed); }

  // refuse_early is the answer to a request its headers alone refuse, or
  // nullopt (read the body, then handle() it): a delivery from a peer that
  // is neither a trusted proxy nor in the allowlist is answered 403
  // forbidden_source (counted and logged as the receiver's refusals).
  std::optional<http_reply> refuse_early(std::string_view target, std::span<const unsigned char> peer);

  // refuse_too_large is the answer to a delivery over --max-body-size
  // (counted as the receiver's too_large outcome).
  http_reply refuse_too_large(std::string_view target);

 private:
  struct attempt;
  void deliver(const http_request_view& request, std::function<void(http_reply)> respond);
  void admit_and_keep(const std::shared_ptr<attempt>& a);

  routes_options options_;
  admission* admission_;
  storage* store_;
  in_flight* flights_;
  metrics& metrics_;
  refusal_log refusals_;
  std::atomic<bool> draining_{false};
  std::atomic<std::size_t> pending_bytes_{0};       // bodies the store holds (max_pending_bytes)
  std::atomic<std::uint64_t> pending_bytes_refused_{0};
};

}  // namespace fiskil::gateway
