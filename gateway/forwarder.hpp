// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
//
// forwarder: hands each delivery kept in the store (the SQLite journal, or
// JetStream: forward_source.hpp) to the application (--forward URL), signed the Standard Webhooks way, with
// retries, dead letters and a pause on 410 (docs/forward.md).
//
// A store consumer in the same process, on threads of its own: one
// dispatcher, which alone uses the forward_source, and
// --forward-concurrency workers, each with one keep-alive connection to the
// application. Receiving never waits on it: the gateway's writer and
// /readyz do not depend on the forwarder.
//
// Order: the deliveries of one consent_id go one at a time, in journal
// (store) order; the next waits until the previous one is answered 2xx or is
// dead-lettered. Others go in parallel.
//
// Crash safety: an attempt's outcome is written after the answer, so a
// crash between the two repeats the attempt, with the same webhook-id.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "forward_options.hpp"
#include "forward_source.hpp"

namespace fiskil::gateway {

struct forward_url;

class forwarder {
 public:
  // start opens the journal at journal_path (already opened by the gateway),
  // reads the secret and starts the threads. Null, with error, on failure.
  static std::unique_ptr<forwarder> start(const forward_options& options, const std::string& journal_path,
                                          std::chrono::milliseconds busy_timeout, std::string& error);
  // start with another source (JetStream): reads the secret and starts the
  // threads, which own source. Null, with error, on failure.
  static std::unique_ptr<forwarder> start(const forward_options& options, std::unique_ptr<forward_source> source,
                                          std::string& error);
  // check validates the --forward flags (the URL, a secret file given)
  // before a source is opened; false with error otherwise.
  static bool check(const forward_options& options, forward_url& url, std::string& error);
  virtual ~forwarder() = default;

  // reload (SIGHUP) re-reads --forward-secret-file (keeping the previous
  // secret when the file is unusable) and resumes a paused forwarding.
  virtual void reload() = 0;

  // write_metrics appends the forwarder's Prometheus metrics.
  virtual void write_metrics(std::string& out) const = 0;

  // stop interrupts the attempts in flight (they are repeated after a
  // restart) and joins the threads.
  virtual void stop() = 0;
};

}  // namespace fiskil::gateway
