// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
#include "routes.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <memory>
#include <thread>
#include <utility>

#include "admission.hpp"
#include "in_flight.hpp"
#include "log.hpp"
#include "metrics.hpp"
#include "storage.hpp"

namespace fiskil::gateway {

namespace {

void append_json_string(std::string& out, std::string_view text) {
  out += '"';
  for (const char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += ' ';
    } else {
      out += c;
    }
  }
  out += '"';
}

std::string_view path_of(std::string_view target) {
  const std::size_t query = target.find('?');
  return query == std::string_view::npos ? target : target.substr(0, query);
}

std::int64_t steady_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

http_reply json_reply(int status, std::string_view outcome, std::string_view error) {
  http_reply reply;
  reply.status = status;
  reply.body = "{\"outcome\":";
  append_json_string(reply.body, outcome);
  if (!error.empty()) {
    reply.body += ",\"error\":";
    append_json_string(reply.body, error);
  }
  reply.body += "}\n";
  return reply;
}

http_reply routes::refuse_too_large(std::string_view target) {
  if (path_of(target) == options_.path) {
    const auto names = admission::outcome_names();
    for (std::size_t i = 0; i < names.size(); ++i)
      if (names[i] == "too_large") metrics_.delivery(i);
  }
  return json_reply(413, "too_large", "body over --max-body-size");
}

std::optional<http_reply> routes::refuse_early(std::string_view target, std::span<const unsigned char> peer) {
  if (admission_ == nullptr || path_of(target) != options_.path || admission_->source_allowed(peer)) return std::nullopt;
  const auto names = admission::outcome_names();
  std::size_t outcome = 0;
  for (std::size_t i = 0; i < names.size(); ++i)
    if (names[i] == "forbidden_source") outcome = i;
  metrics_.delivery(outcome);
  constexpr std::string_view why = "delivery comes from an address outside the source allowlist";
  refusals_.write(outcome, "warn", "delivery_refused",
                  {{"outcome", "forbidden_source"}, {"status", "403"}, {"error", why}, {"peer", peer_text(peer)}});
  return json_reply(403, "forbidden_source", why);
}

void routes::handle(const http_request_view& request, std::function<void(http_reply)> respond) {
  const std::string_view path = path_of(request.target);
  // With --admin-listen, each listener serves its own routes (and /healthz).
  if ((request.listener == listener_role::admin && path == options_.path && path != "/healthz") ||
      (request.listener == listener_role::delivery && path != options_.path && path != "/healthz"))
    return respond(json_reply(404, "not_found", "no such route on this listener"));
  if (path == options_.path) {
    if (request.method != "POST") {
      http_reply reply = json_reply(405, "method_not_allowed", "deliveries are POSTed");
      reply.allow = "POST";
      return respond(std::move(reply));
    }
    return deliver(request, std::move(respond));
  }
  const bool known = path == "/healthz" || path == "/readyz" || path == "/metrics";
  if (!known) return respond(json_reply(404, "not_found", "no such route"));
  if (request.method != "GET" && request.method != "HEAD") {
    http_reply reply = json_reply(405, "method_not_allowed", "use GET");
    reply.allow = "GET, HEAD";
    return respond(std::move(reply));
  }
  if (path == "/healthz") return respond(json_reply(200, "ok", ""));
  if (path == "/readyz") {
    if (draining_.load(std::memory_order_relaxed))
      return respond(json_reply(503, "not_ready", "shutting down: finishing the requests in flight"));
    if (store_ != nullptr && !store_->ready()) return respond(json_reply(503, "not_ready", "the store cannot keep deliveries"));
    if (flights_ != nullptr && flights_->oldest_age() > options_.ready_pending_age)
      return respond(json_reply(503, "not_ready", "a delivery has waited for the store longer than --ready-pending-age"));
    return respond(json_reply(200, "ready", ""));
  }
  http_reply reply;
  reply.content_type = "text/plain; version=0.0.4; charset=utf-8";
  metrics_.write(reply.body);
  if (admission_ != nullptr) admission_->write_metrics(reply.body);
  if (store_ != nullptr) store_->write_metrics(reply.body);
  if (flights_ != nullptr) flights_->write_metrics(reply.body);
  if (options_.more_metrics) options_.more_metrics(reply.body);
  append_metric(reply.body, "fiskil_gateway_store_pending_bytes", "gauge",
                "Body bytes of deliveries handed to the store and not yet answered by it (--max-pending-bytes).",
                pending_bytes_.load(std::memory_order_relaxed));
  append_metric(reply.body, "fiskil_gateway_pending_bytes_refusals_total", "counter",
                "Deliveries answered 503 because the store already held --max-pending-bytes of bodies.",
                pending_bytes_refused_.load(std::memory_order_relaxed));
  return respond(std::move(reply));
}

// attempt is one delivery request until it is answered: the request's views
// stay valid until respond is called.
struct routes::attempt {
  http_request_view request;
  std::function<void(http_reply)> respond;
  std::int64_t started_ns = 0;             // for the latency histogram
  in_flight::clock::time_point started;    // for the store deadline
};

void routes::deliver(const http_request_view& request, std::function<void(http_reply)> respond) {
  const std::int64_t started = steady_ns();
  if (admission_ == nullptr) {  // the benchmark's empty server
    metrics_.request_latency().observe(steady_ns() - started);
    return respond(json_reply(200, "accepted", ""));
  }
  auto a = std::make_shared<attempt>();
  a->request = request;
  a->respond = std::move(respond);
  a->started_ns = started;
  a->started = in_flight::clock::now();
  admit_and_keep(a);
}

// admit_and_keep admits the request and, when accepted, hands it to the
// store under the store deadline. A copy of a delivery in flight waits for
// that delivery's answer; an event of a consent with an event in flight
// waits for it to settle, then is admitted again. (Between the receiver's
// admit and in_flight::begin, the first is pending but not registered yet:
// that window is a few instructions, so the copy admits again.)
void routes::admit_and_keep(const std::shared_ptr<attempt>& a) {
  const auto answer = [this](const std::shared_ptr<attempt>& at, verdict& done) {
    metrics_.delivery(done.outcome, done.event_index, done.key_index);
    const std::string_view name = admission::outcome_names()[done.outcome];
    if (done.status >= 400) {
      // message_id is empty unless the body was authentic and parsed.
      refusals_.write(done.outcome, "warn", "delivery_refused",
                      {{"outcome", name}, {"status", std::to_string(done.status)}, {"error", done.error},
                       {"message_id", done.rec.message_id}, {"peer", peer_text(at->request.peer)},
                       {"forwarded_for", std::string(at->request.forwarded_for.substr(0, 128))}});
    } else if (log_enabled("debug")) {
      log("debug", "delivery_answered",
          {{"outcome", name}, {"status", std::to_string(done.status)}, {"message_id", done.rec.message_id},
           {"peer", peer_text(at->request.peer)}});
    }
    metrics_.request_latency().observe(steady_ns() - at->started_ns);
    http_reply reply = json_reply(done.status, name, done.status >= 400 ? std::string_view(done.error) : std::string_view{});
    if (done.status == 503) reply.retry_after = "1";
    at->respond(std::move(reply));
  };
  const http_request_view& request = a->request;
  std::shared_ptr<verdict> v;
  for (int spins = 0;; ++spins) {
    v = std::make_shared<verdict>(
        admission_->admit(request.peer, request.forwarded_for, request.body, request.signature));
    if (!v->in_progress) break;
    if (in_flight::clock::now() >= flights_->deadline(a->started)) break;  // answered 503 in_progress
    if (v->waits_for_consent) {
      const bool waiting = flights_->wait_for_consent(v->rec.consent_id, [this, a, answer, v] {
        if (in_flight::clock::now() < flights_->deadline(a->started)) return admit_and_keep(a);
        // Out of time while the other event was kept: the provider retries.
        v->error = "another event of this consent was still being kept at --store-timeout; retry";
        answer(a, *v);
      });
      if (waiting) return;
    } else {
      const bool waiting = flights_->wait_for_copy(v->rec.message_id, [a, v, answer](settled first) mutable {
        admission::answer_copy(*v, first);
        answer(a, *v);
      });
      if (waiting) return;
    }
    // Not registered yet (or settled meanwhile): admit again.
    if (spins > 1000) break;
    std::this_thread::yield();
  }
  if (!v->accepted) return answer(a, *v);

  // The memory bound: the bodies the store holds, in bytes.
  const std::size_t size = v->rec.body.size();
  if (options_.max_pending_bytes != 0) {
    std::size_t held = pending_bytes_.load(std::memory_order_relaxed);
    do {
      if (held + size > options_.max_pending_bytes) {
        pending_bytes_refused_.fetch_add(1, std::memory_order_relaxed);
        admission_->settle(*v, stored::unavailable);
        v->error = "the gateway holds --max-pending-bytes of deliveries waiting for the store; retry";
        return answer(a, *v);
      }
    } while (!pending_bytes_.compare_exchange_weak(held, held + size, std::memory_order_relaxed));
  } else {
    pending_bytes_.fetch_add(size, std::memory_order_relaxed);
  }
  record rec = std::move(v->rec);
  v->rec.message_id = rec.message_id;  // kept for settle() and the log
  v->rec.consent_id = rec.consent_id;
  v->rec.consent_change = rec.consent_change;
  v->rec.publish_time_ns = rec.publish_time_ns;
  const in_flight::ticket t = flights_->begin(
      rec.message_id, rec.consent_change ? rec.consent_id : std::string(), a->started,
      [this, a, v, answer](settled how) {
        admission_->settle(*v, how.value_or(stored::unavailable));
        if (!how) v->error = "the store did not keep the delivery within --store-timeout";
        answer(a, *v);
      });
  store_->append(std::move(rec), [this, flights = flights_, t, size](stored what) {
    pending_bytes_.fetch_sub(size, std::memory_order_relaxed);
    flights->settle(t, what);
  });
}

}  // namespace fiskil::gateway
