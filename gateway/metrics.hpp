// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
//
// The gateway's counters and histograms, written as Prometheus text
// (exposition format 0.0.4) for GET /metrics. Lock-free: relaxed atomics.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace fiskil::gateway {

// histogram counts durations into fixed buckets (100 us to 10 s).
class histogram {
 public:
  static constexpr std::array<double, 16> bounds_seconds = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                                            0.01,   0.025,   0.05,   0.1,   0.25,   0.5,
                                                            1,      2.5,     5,      10};
  // observe adds one duration in nanoseconds.
  void observe(std::int64_t ns) noexcept;
  // write appends name's _bucket, _sum and _count lines (with HELP and TYPE).
  void write(std::string& out, std::string_view name, std::string_view help) const;

 private:
  std::array<std::atomic<std::uint64_t>, bounds_seconds.size() + 1> buckets_{};
  std::atomic<std::uint64_t> count_{0};
  std::atomic<std::uint64_t> sum_ns_{0};
};

// metrics is what the server and the routes count. outcome_names and
// event_names (from admission) label the delivery counters; they must
// outlive the metrics.
class metrics {
 public:
  static constexpr std::size_t max_outcomes = 16, max_events = 32, max_keys = 8;

  metrics(std::span<const std::string_view> outcome_names, std::span<const std::string_view> event_names) noexcept
      : outcome_names_(outcome_names), event_names_(event_names) {}

  // delivery counts one answered delivery in fiskil_gateway_deliveries_total
  // by outcome, event type and secret index (none: not authentic or not
  // parsed). An outcome or event past the limits is not counted; secrets at
  // index max_keys and after share one label, "8+".
  void delivery(std::size_t outcome, std::optional<std::size_t> event = std::nullopt,
                std::optional<std::size_t> key = std::nullopt) noexcept {
    if (outcome >= max_outcomes || (event && *event >= max_events)) return;
    const std::size_t e = event ? *event + 1 : 0;
    const std::size_t k = key ? (*key < max_keys ? *key + 1 : key_slots - 1) : 0;
    deliveries_[(outcome * (max_events + 1) + e) * key_slots + k].fetch_add(1, std::memory_order_relaxed);
  }
  void connection_opened() noexcept { open_connections_.fetch_add(1, std::memory_order_relaxed); }
  void connection_closed() noexcept { open_connections_.fetch_sub(1, std::memory_order_relaxed); }
  void connection_refused() noexcept { refused_connections_.fetch_add(1, std::memory_order_relaxed); }
  void read_timeout() noexcept { read_timeouts_.fetch_add(1, std::memory_order_relaxed); }
  void idle_close() noexcept { idle_closes_.fetch_add(1, std::memory_order_relaxed); }
  void tls_handshake_failure() noexcept { tls_handshake_failures_.fetch_add(1, std::memory_order_relaxed); }
  void bad_request() noexcept { bad_requests_.fetch_add(1, std::memory_order_relaxed); }
  // tls_certificate_expiry sets the served certificate's notAfter (Unix seconds; 0: no TLS).
  void tls_certificate_expiry(std::int64_t seconds) noexcept { tls_expiry_.store(seconds, std::memory_order_relaxed); }
  [[nodiscard]] std::int64_t open_connections() const noexcept {
    return open_connections_.load(std::memory_order_relaxed);
  }
  histogram& request_latency() noexcept { return request_latency_; }

  // write appends the gateway's own metrics in Prometheus text format.
  void write(std::string& out) const;

 private:
  std::span<const std::string_view> outcome_names_, event_names_;
  // deliveries_[outcome][event + 1][key + 1]; index 0 of event and key is
  // none, the last key slot every secret from index max_keys on.
  static constexpr std::size_t key_slots = max_keys + 2;
  std::array<std::atomic<std::uint64_t>, max_outcomes * (max_events + 1) * key_slots> deliveries_{};
  std::atomic<std::int64_t> open_connections_{0};
  std::atomic<std::uint64_t> refused_connections_{0}, read_timeouts_{0}, bad_requests_{0};
  std::atomic<std::uint64_t> idle_closes_{0}, tls_handshake_failures_{0};
  std::atomic<std::int64_t> tls_expiry_{0};
  histogram request_latency_;
};

// append_metric_header appends a metric family's HELP and TYPE lines; its
// samples follow.
void append_metric_header(std::string& out, std::string_view name, std::string_view type, std::string_view help);

// append_metric appends a one-sample metric (HELP, TYPE and the sample).
void append_metric(std::string& out, std::string_view name, std::string_view type, std::string_view help,
                   std::uint64_t value);

}  // namespace fiskil::gateway
