// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
#include "metrics.hpp"

#include <cstdio>

#include "process_metrics.hpp"

namespace fiskil::gateway {

void append_metric_header(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += help;
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

namespace {

void sample(std::string& out, std::string_view name, std::string_view labels, std::uint64_t value) {
  out += name;
  out += labels;
  out += ' ';
  out += std::to_string(value);
  out += '\n';
}

std::string format_double(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.9g", value);
  return text;
}

}  // namespace

void append_metric(std::string& out, std::string_view name, std::string_view type, std::string_view help,
                   std::uint64_t value) {
  append_metric_header(out, name, type, help);
  sample(out, name, "", value);
}

void histogram::observe(std::int64_t ns) noexcept {
  if (ns < 0) ns = 0;
  const double seconds = static_cast<double>(ns) / 1e9;
  std::size_t i = 0;
  while (i < bounds_seconds.size() && seconds > bounds_seconds[i]) ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_ns_.fetch_add(static_cast<std::uint64_t>(ns), std::memory_order_relaxed);
}

void histogram::write(std::string& out, std::string_view name, std::string_view help) const {
  append_metric_header(out, name, "histogram", help);
  std::uint64_t cumulative = 0;
  const std::string bucket = std::string(name) + "_bucket";
  for (std::size_t i = 0; i < buckets_.size(); ++i) {
    cumulative += buckets_[i].load(std::memory_order_relaxed);
    const std::string le = i < bounds_seconds.size() ? format_double(bounds_seconds[i]) : "+Inf";
    sample(out, bucket, "{le=\"" + le + "\"}", cumulative);
  }
  out += name;
  out += "_sum ";
  out += format_double(static_cast<double>(sum_ns_.load(std::memory_order_relaxed)) / 1e9);
  out += '\n';
  sample(out, std::string(name) + "_count", "", count_.load(std::memory_order_relaxed));
}

void metrics::write(std::string& out) const {
  // Every outcome has its event="none",key="none" sample, zero or not, so
  // that rates over outcomes exist from the start; other combinations appear
  // once counted.
  append_metric_header(out, "fiskil_gateway_deliveries_total", "counter",
                       "Deliveries answered, by outcome, event type (none: not authentic or not parsed; unknown: a "
                       "type this version does not know) and the index of the secret that verified them (0: newest; "
                       "none: not authentic).");
  for (std::size_t o = 0; o < outcome_names_.size() && o < max_outcomes; ++o) {
    for (std::size_t e = 0; e <= max_events; ++e) {
      if (e > event_names_.size()) break;
      for (std::size_t k = 0; k < key_slots; ++k) {
        const std::uint64_t value =
            deliveries_[(o * (max_events + 1) + e) * key_slots + k].load(std::memory_order_relaxed);
        if (value == 0 && (e != 0 || k != 0)) continue;
        std::string labels = "{outcome=\"";
        labels += outcome_names_[o];
        labels += "\",event=\"";
        labels += e == 0 ? std::string_view("none") : event_names_[e - 1];
        labels += "\",key=\"";
        if (k == 0)
          labels += "none";
        else if (k == key_slots - 1)
          labels += std::to_string(max_keys) + "+";
        else
          labels += std::to_string(k - 1);
        labels += "\"}";
        sample(out, "fiskil_gateway_deliveries_total", labels, value);
      }
    }
  }
  request_latency_.write(out, "fiskil_gateway_request_duration_seconds",
                         "Time from a delivery's complete request to its answer being queued for writing.");
  append_metric_header(out, "fiskil_gateway_open_connections", "gauge", "Connections open now.");
  out += "fiskil_gateway_open_connections " + std::to_string(open_connections_.load(std::memory_order_relaxed)) + "\n";
  append_metric(out, "fiskil_gateway_refused_connections_total", "counter",
                "Connections answered 503 and closed because --max-connections were open.",
                refused_connections_.load(std::memory_order_relaxed));
  append_metric(out, "fiskil_gateway_read_timeouts_total", "counter",
                "Connections closed because a request (headers and body) did not arrive within --read-timeout "
                "of its first byte.",
                read_timeouts_.load(std::memory_order_relaxed));
  append_metric(out, "fiskil_gateway_idle_closes_total", "counter",
                "Connections closed because no request began: idle for --idle-timeout after a request, or "
                "silent for --read-timeout once opened.",
                idle_closes_.load(std::memory_order_relaxed));
  append_metric(out, "fiskil_gateway_tls_handshake_failures_total", "counter",
                "TLS handshakes that failed or did not finish within --read-timeout.",
                tls_handshake_failures_.load(std::memory_order_relaxed));
  if (const std::int64_t expiry = tls_expiry_.load(std::memory_order_relaxed); expiry != 0) {
    append_metric_header(out, "fiskil_gateway_tls_certificate_expiry_timestamp_seconds", "gauge",
                         "When the served TLS certificate expires (its notAfter), in seconds since the Unix epoch.");
    out += "fiskil_gateway_tls_certificate_expiry_timestamp_seconds " + std::to_string(expiry) + "\n";
  }
  append_metric(out, "fiskil_gateway_bad_requests_total", "counter",
                "Requests refused by the HTTP layer (malformed, headers too large, body too large, no length).",
                bad_requests_.load(std::memory_order_relaxed));
  write_process_metrics(out);
}

}  // namespace fiskil::gateway
