// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
#include "forwarder.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <random>
#include <thread>
#include <unordered_set>
#include <vector>

#include "forward_client.hpp"
#include "forward_journal.hpp"
#include "forward_source.hpp"
#include "forward_schedule.hpp"
#include "forward_signing.hpp"
#include "log.hpp"
#include "metrics.hpp"
#include "thread_name.hpp"

namespace fiskil::gateway {

namespace fw = ::fiskil::webhooks;

namespace {

std::int64_t system_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::int64_t steady_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Due deliveries the dispatcher looks at each time: room for the ones in
// flight (listed again) and for --forward-concurrency more.
int candidate_window(std::size_t concurrency) { return static_cast<int>(std::min<std::size_t>(2 * concurrency + 8, 1 << 20)); }
// New journal rows taken in per transaction.
constexpr int scan_batch = 1000;

struct finished {
  forward_job job;
  forward_response response;
  std::int64_t duration_ns = 0;
};

class source_forwarder final : public forwarder {
 public:
  source_forwarder(forward_options options, forward_url url, std::shared_ptr<forward_tls> tls,
                   std::unique_ptr<forward_source> source, fw::signing_key key)
      : options_(std::move(options)), url_(std::move(url)), tls_(std::move(tls)), source_(std::move(source)),
        commands_(source_->commands()), key_(key) {}

  ~source_forwarder() override { stop(); }

  void begin() {
    for (std::size_t i = 0; i < options_.concurrency; ++i) connections_.push_back(std::make_unique<forward_connection>(url_, tls_));
    for (std::size_t i = 0; i < options_.concurrency; ++i)
      workers_.emplace_back([this, i] {
        name_this_thread("fw-forward-http");
        work(*connections_[i]);
      });
    dispatcher_ = std::thread([this] {
      name_this_thread("fw-forward");
      dispatch();
    });
  }

  void reload() override {
    std::string error;
    if (const std::optional<fw::signing_key> key = forward_key_from_file(options_.secret_file, error)) {
      const std::lock_guard lock(key_mutex_);
      key_ = *key;
    } else {
      log("error", "forward_secret_reload_failed", {{"reason", error}, {"kept", "previous secret"}});
    }
    resume_requested_.store(true, std::memory_order_release);
    wake_dispatcher();
  }

  void write_metrics(std::string& out) const override {
    append_metric(out, "fiskil_gateway_forward_backlog", "gauge",
                  "Deliveries not yet delivered to the application nor dead-lettered.",
                  static_cast<std::uint64_t>(backlog_.load(std::memory_order_relaxed)));
    out += "# HELP fiskil_gateway_forward_oldest_pending_seconds Age of the oldest delivery waiting to be forwarded "
           "(0 when none).\n# TYPE fiskil_gateway_forward_oldest_pending_seconds gauge\n"
           "fiskil_gateway_forward_oldest_pending_seconds " +
           std::to_string(oldest_ms_.load(std::memory_order_relaxed) / 1000.0) + "\n";
    out += "# HELP fiskil_gateway_forward_attempts_total Attempts to deliver to the application, by result.\n"
           "# TYPE fiskil_gateway_forward_attempts_total counter\n";
    for (std::size_t i = 0; i < attempts_.size(); ++i)
      out += "fiskil_gateway_forward_attempts_total{result=\"" +
             std::string(attempt_class_name(static_cast<attempt_class>(i))) + "\"} " +
             std::to_string(attempts_[i].load(std::memory_order_relaxed)) + "\n";
    append_metric(out, "fiskil_gateway_forward_dead_letters", "gauge",
                  "Dead letters kept by the store (out of attempts or age; the redrive command sends them again).",
                  static_cast<std::uint64_t>(dead_.load(std::memory_order_relaxed)));
    append_metric(out, "fiskil_gateway_forward_delivered", "gauge",
                  "Deliveries the application answered 2xx, as the store records them (JetStream: by this process).",
                  static_cast<std::uint64_t>(delivered_.load(std::memory_order_relaxed)));
    append_metric(out, "fiskil_gateway_forward_paused", "gauge",
                  "1 while forwarding is paused after a 410 (the resume command or SIGHUP resumes it).",
                  paused_.load(std::memory_order_relaxed) ? 1 : 0);
    latency_.write(out, "fiskil_gateway_forward_delivery_duration_seconds",
                   "From the delivery's receipt to the application's 2xx.");
    attempt_latency_.write(out, "fiskil_gateway_forward_attempt_duration_seconds",
                           "One attempt, from connecting (or reusing a connection) to the application's answer.");
  }

  void stop() override {
    {
      const std::lock_guard lock(mutex_);
      if (stopping_) return;
      stopping_ = true;
    }
    for (auto& c : connections_) c->interrupt();
    jobs_ready_.notify_all();
    wake_dispatcher();
    for (std::thread& t : workers_)
      if (t.joinable()) t.join();
    if (dispatcher_.joinable()) dispatcher_.join();
  }

 private:
  void wake_dispatcher() {
    {
      const std::lock_guard lock(mutex_);
      dispatcher_woken_ = true;
    }
    dispatcher_wake_.notify_one();
  }

  // work: one worker, one connection.
  void work(forward_connection& connection) {
    for (;;) {
      forward_job job;
      {
        std::unique_lock lock(mutex_);
        jobs_ready_.wait(lock, [&] { return stopping_ || !jobs_.empty(); });
        if (stopping_) return;
        job = std::move(jobs_.front());
        jobs_.pop_front();
      }
      const std::int64_t timestamp = system_ns() / 1'000'000'000;
      std::string signature;
      {
        const std::lock_guard lock(key_mutex_);
        signature = standard_signature(key_, job.message_id, timestamp, job.body);
      }
      forward_request request;
      request.message_id = job.message_id;
      request.event = job.event;
      request.body = job.body;
      request.signature = signature;
      request.timestamp = timestamp;
      request.attempt = job.attempts + 1;
      const std::int64_t started = steady_ns();
      finished done;
      done.response = connection.send(request, options_.timeout);
      done.duration_ns = steady_ns() - started;
      done.job = std::move(job);
      {
        const std::lock_guard lock(mutex_);
        results_.push_back(std::move(done));
        dispatcher_woken_ = true;
      }
      dispatcher_wake_.notify_one();
    }
  }

  // outcome_of decides what to record after an attempt.
  forward_outcome outcome_of(const finished& f, std::int64_t now_ns) {
    forward_outcome o;
    o.seq = f.job.seq;
    o.attempts = f.job.attempts + 1;
    o.last_status = f.response.status;
    o.next_attempt_ns = now_ns;
    const verdict v = f.response.status != 0 ? judge_status(f.response.status) : verdict::retry;
    if (f.response.status != 0) {
      o.last_error = v == verdict::delivered ? "" : "HTTP " + std::to_string(f.response.status);
    } else {
      o.last_error = f.response.error;
    }
    if (v == verdict::delivered) {
      o.state = "delivered";
      return o;
    }
    o.state = "pending";
    if (v == verdict::pause) {
      o.pause = true;
      return o;
    }
    if (out_of_attempts(o.attempts, options_.max_attempts, std::chrono::nanoseconds{now_ns - f.job.series_start_ns},
                        options_.max_age)) {
      o.state = "dead";
      return o;
    }
    const std::optional<std::chrono::seconds> after =
        f.response.retry_after.empty() ? std::nullopt : parse_retry_after(f.response.retry_after, now_ns / 1'000'000'000);
    o.next_attempt_ns = now_ns + retry_delay(f.response.status, after, o.attempts, options_.backoff_base,
                                             options_.backoff_max, jitter_(random_))
                                     .count();
    return o;
  }

  void account(const finished& f, const forward_outcome& o, std::int64_t now_ns) {
    attempts_[static_cast<std::size_t>(f.response.result)].fetch_add(1, std::memory_order_relaxed);
    attempt_latency_.observe(f.duration_ns);
    if (o.state == "delivered") latency_.observe(std::max<std::int64_t>(0, now_ns - f.job.received_time_ns));
    if (o.state == "dead")
      log("warn", "forward_dead_letter",
          {{"message_id", f.job.message_id}, {"event", f.job.event}, {"attempts", std::to_string(o.attempts)},
           {"last_status", std::to_string(o.last_status)}, {"last_error", o.last_error},
           {"detail", commands_ + " redrive --id sends it again"}});
    if (o.pause) {
      paused_.store(true, std::memory_order_relaxed);
      log("warn", "forward_paused",
          {{"message_id", f.job.message_id}, {"status", "410"}, {"url", options_.url},
           {"detail", "the application answered 410 Gone; fiskil-gateway " + commands_ + " resume or SIGHUP resumes"}});
    }
  }

  void refresh_gauges(std::int64_t now_ns) {
    forward_gauges g;
    std::string error;
    if (!source_->gauges(now_ns, g, error)) {
      log("warn", "forward_store_read_failed", {{"reason", error}});
      return;
    }
    backlog_.store(g.backlog, std::memory_order_relaxed);
    oldest_ms_.store(static_cast<std::int64_t>(g.oldest_pending_seconds * 1000), std::memory_order_relaxed);
    dead_.store(g.dead, std::memory_order_relaxed);
    delivered_.store(g.delivered, std::memory_order_relaxed);
    paused_.store(g.paused, std::memory_order_relaxed);
  }

  // dispatch is the dispatcher's loop. Each turn: take what the workers
  // finished; look for new deliveries; hand due deliveries to the free
  // workers; then record what finished, in one transaction. Recording after
  // dispatching keeps the workers busy during the commit's fsync, so that
  // one commit records what finished meanwhile. A delivery stays busy (not
  // sent again, and its consent held) until its outcome is recorded.
  void dispatch() {
    std::vector<finished> done;
    std::vector<forward_outcome> outcomes;
    std::vector<forward_candidate> candidates;
    std::unordered_set<std::int64_t> busy_seqs;   // sent, outcome not yet recorded
    std::unordered_set<std::string> busy_keys;    // their consents
    std::size_t in_flight = 0;                    // at the workers
    std::int64_t next_scan = 0, next_gauges = 0, next_forget = 0;
    bool paused = false;
    // --forward-rate: one token every 1/rate seconds, at most one banked:
    // attempts are spaced at least 1/rate apart (no bursts).
    double tokens = options_.rate > 0 ? 1.0 : 0;
    std::int64_t last_refill = steady_ns();
    std::string error;
    bool failing = false;
    const auto report = [&](bool ok, std::string_view what) {
      if (!ok && !failing) log("warn", "forward_store_busy", {{"step", what}, {"reason", error}, {"detail", "retried"}});
      if (ok && failing) log("info", "forward_store_ok");
      failing = !ok;
    };
    for (;;) {
      std::int64_t wait_ns = options_.poll.count();
      bool stopping = false;
      {
        std::unique_lock lock(mutex_);
        for (auto& r : results_) {
          done.push_back(std::move(r));
          --in_flight;
        }
        results_.clear();
        dispatcher_woken_ = false;
        stopping = stopping_;
      }
      const std::int64_t now = system_ns();
      const std::int64_t steady = steady_ns();
      if (!stopping) {
        // 1. New deliveries, and the pause flag (the resume command may clear it).
        if (resume_requested_.exchange(false)) {
          if (source_->set_paused(false, error)) {
            if (paused) log("info", "forward_resumed", {{"by", "SIGHUP"}});
            paused = false;
            paused_.store(false);
          } else {
            resume_requested_.store(true);
          }
        }
        if (steady >= next_scan) {
          int added = 0;
          report(source_->scan(now, scan_batch, added, error), "scan");
          bool p = paused;
          if (source_->paused(p, error)) {
            if (paused && !p) log("info", "forward_resumed", {{"by", commands_ + " resume"}});
            paused = p;
          }
          next_scan = steady + (added == scan_batch ? 0 : options_.poll.count());
        }
        if (steady >= next_forget) {
          int removed = 0;
          (void)source_->tidy(removed, error);
          next_forget = steady + (removed == 1000 ? 0 : 10'000'000'000);
        }
        if (steady >= next_gauges) {
          refresh_gauges(now);
          paused_.store(paused, std::memory_order_relaxed);
          next_gauges = steady + 1'000'000'000;
        }
      }
      // 2. Dispatch: the first pending delivery of each consent, when due;
      // nothing once a 410 came back (it pauses when recorded, below).
      const bool gone = std::any_of(done.begin(), done.end(), [](const finished& f) {
        return f.response.status != 0 && judge_status(f.response.status) == verdict::pause;
      });
      if (!stopping && !paused && !gone && in_flight < options_.concurrency && !failing) {
        if (options_.rate > 0) {
          tokens = std::min(1.0, tokens + options_.rate * static_cast<double>(steady - last_refill) / 1e9);
          last_refill = steady;
        }
        std::int64_t earliest = INT64_MAX;
        if (source_->candidates(now, candidate_window(options_.concurrency), candidates, earliest, error)) {
          for (const forward_candidate& c : candidates) {
            if (in_flight >= options_.concurrency) break;
            if (busy_seqs.count(c.seq) != 0) continue;
            if (c.order_key && busy_keys.count(*c.order_key) != 0) continue;
            if (options_.rate > 0 && tokens < 1) {
              earliest = std::min<std::int64_t>(earliest, now + static_cast<std::int64_t>(1e9 / options_.rate));
              break;
            }
            forward_job job;
            if (!source_->load(c.seq, job, error)) continue;
            if (options_.rate > 0) tokens -= 1;
            busy_seqs.insert(c.seq);
            if (job.order_key) busy_keys.insert(*job.order_key);
            ++in_flight;
            {
              const std::lock_guard lock(mutex_);
              jobs_.push_back(std::move(job));
            }
            jobs_ready_.notify_one();
          }
          if (earliest != INT64_MAX) wait_ns = std::clamp<std::int64_t>(earliest - now, 1'000'000, wait_ns);
        }
      }
      // 3. What the workers finished, recorded in one transaction.
      if (!done.empty()) {
        outcomes.clear();
        std::vector<std::size_t> recorded;
        for (std::size_t i = 0; i < done.size(); ++i) {
          if (done[i].response.interrupted) continue;
          outcomes.push_back(outcome_of(done[i], now));
          recorded.push_back(i);
        }
        const bool ok = source_->record(outcomes, error);
        report(ok, "record");
        if (ok) {
          for (std::size_t k = 0; k < recorded.size(); ++k) {
            account(done[recorded[k]], outcomes[k], now);
            paused = paused || outcomes[k].pause;
          }
          for (const finished& f : done) {
            busy_seqs.erase(f.job.seq);
            if (f.job.order_key) busy_keys.erase(*f.job.order_key);
          }
          done.clear();
          wait_ns = 0;  // the next of those consents may be due now
        } else {
          wait_ns = 100'000'000;  // the writer holds the lock: try again soon
        }
      }
      std::unique_lock lock(mutex_);
      // Stopping: the workers are joined first (stop()), so every result is
      // in; what could not be recorded is repeated after a restart.
      if (stopping_ && results_.empty() && (done.empty() || failing)) break;
      if (wait_ns > 0)
        dispatcher_wake_.wait_for(lock, std::chrono::nanoseconds{wait_ns},
                                  [&] { return stopping_ || dispatcher_woken_ || !results_.empty(); });
    }
  }

  forward_options options_;
  forward_url url_;
  std::shared_ptr<forward_tls> tls_;  // https only
  std::unique_ptr<forward_source> source_;  // the dispatcher's alone
  std::string commands_;
  mutable std::mutex key_mutex_;
  fw::signing_key key_;

  std::mutex mutex_;
  std::condition_variable jobs_ready_, dispatcher_wake_;
  std::deque<forward_job> jobs_;
  std::vector<finished> results_;
  bool stopping_ = false;
  bool dispatcher_woken_ = false;
  std::atomic<bool> resume_requested_{false};

  std::vector<std::unique_ptr<forward_connection>> connections_;
  std::vector<std::thread> workers_;
  std::thread dispatcher_;
  std::mt19937_64 random_{std::random_device{}()};
  std::uniform_real_distribution<double> jitter_{0.0, 1.0};

  std::array<std::atomic<std::uint64_t>, 6> attempts_{};
  std::atomic<std::int64_t> backlog_{0}, oldest_ms_{0}, dead_{0}, delivered_{0};
  std::atomic<bool> paused_{false};
  histogram latency_, attempt_latency_;
};

}  // namespace

std::unique_ptr<forwarder> forwarder::start(const forward_options& options, const std::string& journal_path,
                                            std::chrono::milliseconds busy_timeout, std::string& error) {
  if (journal_path == ":memory:") {
    error = "--forward needs a journal file (--journal :memory: is another connection's private database)";
    return nullptr;
  }
  forward_url url;
  if (!check(options, url, error)) return nullptr;
  std::unique_ptr<forward_journal> journal = forward_journal::open(journal_path, options.url, busy_timeout, error);
  if (!journal) return nullptr;
  return start(options, std::move(journal), error);
}

bool forwarder::check(const forward_options& options, forward_url& url, std::string& error) {
  if (!forward_url::parse(options.url, url, error)) {
    error = "--forward " + options.url + ": " + error;
    return false;
  }
  if (options.secret_file.empty()) {
    error = "--forward needs --forward-secret-file (the application verifies the requests with it)";
    return false;
  }
  return true;
}

std::unique_ptr<forwarder> forwarder::start(const forward_options& options, std::unique_ptr<forward_source> source,
                                            std::string& error) {
  forward_url url;
  if (!check(options, url, error)) return nullptr;
  const std::optional<fw::signing_key> key = forward_key_from_file(options.secret_file, error);
  if (!key) {
    error = "--forward-secret-file " + error;
    return nullptr;
  }
  std::shared_ptr<forward_tls> tls;
  if (url.tls && !(tls = forward_tls_context(options.ca_file, error))) return nullptr;
  auto made = std::make_unique<source_forwarder>(options, std::move(url), std::move(tls), std::move(source), *key);
  made->begin();
  log("info", "forwarding",
      {{"url", options.url}, {"concurrency", std::to_string(options.concurrency)},
       {"max_attempts", std::to_string(options.max_attempts)}});
  return made;
}

}  // namespace fiskil::gateway
