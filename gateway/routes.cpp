// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
#include "routes.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <memory>
#include <utility>

#include "admission.hpp"
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
  if (path_of(target) == path_) {
    const auto names = admission::outcome_names();
    for (std::size_t i = 0; i < names.size(); ++i)
      if (names[i] == "too_large") metrics_.delivery(i);
  }
  return json_reply(413, "too_large", "body over --max-body-size");
}

std::optional<http_reply> routes::refuse_early(std::string_view target, std::span<const unsigned char> peer) {
  if (admission_ == nullptr || path_of(target) != path_ || admission_->source_allowed(peer)) return std::nullopt;
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
  if ((request.listener == listener_role::admin && path == path_ && path != "/healthz") ||
      (request.listener == listener_role::delivery && path != path_ && path != "/healthz"))
    return respond(json_reply(404, "not_found", "no such route on this listener"));
  if (path == path_) {
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
    if (store_ == nullptr || store_->ready()) return respond(json_reply(200, "ready", ""));
    return respond(json_reply(503, "not_ready", "the journal cannot be written"));
  }
  http_reply reply;
  reply.content_type = "text/plain; version=0.0.4; charset=utf-8";
  metrics_.write(reply.body);
  if (admission_ != nullptr) admission_->write_metrics(reply.body);
  if (store_ != nullptr) store_->write_metrics(reply.body);
  return respond(std::move(reply));
}

void routes::deliver(const http_request_view& request, std::function<void(http_reply)> respond) {
  const std::int64_t started = steady_ns();
  if (admission_ == nullptr) {  // the benchmark's empty server
    metrics_.request_latency().observe(steady_ns() - started);
    return respond(json_reply(200, "accepted", ""));
  }
  auto v = std::make_shared<verdict>(admission_->admit(request.peer, request.forwarded_for, request.body,
                                                         request.signature));
  if (v->event_index) metrics_.event(*v->event_index);
  if (v->key_index) metrics_.key(*v->key_index);
  // For the log of a refusal: formatted only then.
  std::array<unsigned char, 16> peer{};
  const std::size_t peer_size = std::min(request.peer.size(), peer.size());
  std::copy_n(request.peer.begin(), peer_size, peer.begin());
  const auto answer = [this, started, peer, peer_size, forwarded = std::string(request.forwarded_for.substr(0, 128))](
                          verdict& done, const std::function<void(http_reply)>& reply_with) {
    metrics_.delivery(done.outcome);
    const std::string_view name = admission::outcome_names()[done.outcome];
    if (done.status >= 400) {
      // message_id is empty unless the body was authentic and parsed.
      refusals_.write(done.outcome, "warn", "delivery_refused",
                      {{"outcome", name}, {"status", std::to_string(done.status)}, {"error", done.error},
                       {"message_id", done.rec.message_id}, {"peer", peer_text({peer.data(), peer_size})},
                       {"forwarded_for", forwarded}});
    }
    metrics_.request_latency().observe(steady_ns() - started);
    reply_with(json_reply(done.status, name, done.status >= 400 ? std::string_view(done.error) : std::string_view{}));
  };
  if (!v->accepted) return answer(*v, respond);
  record rec = std::move(v->rec);
  v->rec.message_id = rec.message_id;  // kept for settle() and the log
  v->rec.consent_id = rec.consent_id;
  v->rec.consent_change = rec.consent_change;
  v->rec.publish_time_ns = rec.publish_time_ns;
  store_->append(std::move(rec), [this, v, respond = std::move(respond), answer](stored what) {
    admission_->settle(*v, what);
    answer(*v, respond);
  });
}

}  // namespace fiskil::gateway
