// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
#include "journal.hpp"

#include <sqlite3.h>
#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <random>
#include <thread>
#include <utility>
#include <vector>

#include "journal_batch.hpp"
#include "journal_checkpointer.hpp"
#include "log.hpp"
#include "thread_name.hpp"
#include "metrics.hpp"

namespace fiskil::gateway {

namespace {

// random_id is 128 random bits in hex, for the journal's identity.
std::string random_id() {
  std::random_device device;
  std::string id;
  static constexpr char hex[] = "0123456789abcdef";
  for (int i = 0; i < 4; ++i) {
    std::uint32_t word = device();
    for (int j = 0; j < 8; ++j, word >>= 4) id += hex[word & 15];
  }
  return id;
}

// prometheus_label escapes a label value.
std::string prometheus_label(std::string_view text) {
  std::string out;
  for (const char c : text) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

// A WAL frame: one page (SQLite's default 4 KiB, the journal's) and its
// 24-byte header.
constexpr std::size_t page_size = 4096 + 24;

struct pending {
  record rec;
  std::function<void(stored)> done;
};

class journal final : public storage {
 public:
  explicit journal(journal_options options) : options_(std::move(options)) {}

  ~journal() override { stop(); }

  bool start(std::string& error) {
    // Checkpoints run on their own thread and connection (the writer runs
    // with wal_autocheckpoint off) once a sixteenth of --journal-wal-limit
    // waits for one (1024 pages of 4 KiB by default); at the limit the
    // writer checkpoints itself.
    if (options_.path != ":memory:") {
      const int bound = static_cast<int>(std::min<std::size_t>(options_.wal_limit / page_size, 1 << 30));
      checkpointer_ = std::make_unique<journal_checkpointer>(options_.path, std::max(1, bound / 16), bound);
    }
    if (!open_database(error, true)) return false;
    writer_ = std::thread([this] {
      name_this_thread("fw-journal");
      run();
    });
    return true;
  }

  void append(record r, std::function<void(stored)> done) override {
    {
      const std::lock_guard lock(mutex_);
      // Over the limit, the record still goes through the queue (done is
      // never called from inside append), marked to be answered unavailable.
      if (queue_.size() >= options_.queue_limit) {
        overflow_.push_back(pending{std::move(r), std::move(done)});
      } else {
        queue_.push_back(pending{std::move(r), std::move(done)});
      }
      // A busy writer takes the queue when its batch is committed: waking
      // it is needed (a futex call) only while it waits.
      if (!writer_waiting_) return;
    }
    wake_.notify_one();
  }

  [[nodiscard]] bool ready() const override { return healthy_.load(std::memory_order_acquire); }

  void warm(fw::receiver& receiver, std::int64_t now_ns, std::int64_t retention_ns) override {
    std::packaged_task<void()> task([&] { warm_on_writer(receiver, now_ns, retention_ns); });
    std::future<void> finished = task.get_future();
    {
      const std::lock_guard lock(mutex_);
      if (stopping_) return;
      tasks_.push_back(std::move(task));
    }
    wake_.notify_one();
    finished.wait();
  }

  void write_metrics(std::string& out) const override {
    {
      // Deliveries per committed transaction (one fsync each), in buckets
      // of powers of two up to the largest batch.
      append_metric_header(out, "fiskil_gateway_journal_batch_size", "histogram",
                           "Deliveries written per committed journal transaction (one fsync each).");
      std::uint64_t cumulative = 0;
      for (std::size_t i = 0; i < batch_sizes_.size(); ++i) {
        cumulative += batch_sizes_[i].load(std::memory_order_relaxed);
        out += "fiskil_gateway_journal_batch_size_bucket{le=\"" + std::to_string(std::size_t{1} << i) + "\"} " +
               std::to_string(cumulative) + "\n";
      }
      out += "fiskil_gateway_journal_batch_size_bucket{le=\"+Inf\"} " + std::to_string(cumulative) + "\n";
      out += "fiskil_gateway_journal_batch_size_sum " + std::to_string(batch_size_sum_.load(std::memory_order_relaxed)) +
             "\n";
      out += "fiskil_gateway_journal_batch_size_count " + std::to_string(cumulative) + "\n";
    }
    commit_latency_.write(out, "fiskil_gateway_journal_commit_duration_seconds",
                          "Time to write and commit (fsync) one batch of deliveries to the journal.");
    append_metric(out, "fiskil_gateway_journal_batches_total", "counter", "Journal transactions committed.",
                  batches_.load(std::memory_order_relaxed));
    append_metric(out, "fiskil_gateway_journal_records_total", "counter", "Deliveries written to the journal.",
                  records_.load(std::memory_order_relaxed));
    append_metric(out, "fiskil_gateway_journal_write_failures_total", "counter",
                  "Journal transactions that failed (their deliveries were answered 503).",
                  failures_.load(std::memory_order_relaxed));
    append_metric(out, "fiskil_gateway_journal_queue_full_total", "counter",
                  "Deliveries answered 503 because --journal-queue appends were already waiting.",
                  queue_full_.load(std::memory_order_relaxed));
    append_metric(out, "fiskil_gateway_journal_pruned_total", "counter", "Journal rows pruned (--keep).",
                  pruned_.load(std::memory_order_relaxed));
    if (checkpointer_) {
      append_metric(out, "fiskil_gateway_journal_checkpoints_total", "counter",
                    "WAL checkpoints run off the commit path (PASSIVE, on their own connection).",
                    checkpointer_->checkpoints());
      append_metric(out, "fiskil_gateway_journal_bound_checkpoints_total", "counter",
                    "WAL checkpoints the writer ran itself because the WAL reached --journal-wal-limit.",
                    checkpointer_->bound_checkpoints());
      struct stat wal{};
      append_metric(out, "fiskil_gateway_journal_wal_bytes", "gauge", "Size of the journal's WAL file.",
                    ::stat((options_.path + "-wal").c_str(), &wal) == 0 ? static_cast<std::uint64_t>(wal.st_size) : 0);
    }
    append_metric(out, "fiskil_gateway_store_durable", "gauge",
                  "1 when a 200 survives a crash of the process and of the host (a journal file with "
                  "synchronous=FULL); 0 for --journal :memory:.",
                  memory_ ? 0 : 1);
    append_metric(out, "fiskil_gateway_journal_identity_lost", "gauge",
                  "1 while the journal file was removed or replaced under the gateway (every delivery gets 503).",
                  identity_lost_.load(std::memory_order_relaxed) ? 1 : 0);
    {
      const std::lock_guard lock(lag_mutex_);
      append_metric_header(out, "fiskil_gateway_journal_consumer_lag", "gauge",
                           "Rows a registered journal consumer has not passed yet.");
      for (const consumer_lag& c : lags_)
        out += "fiskil_gateway_journal_consumer_lag{consumer=\"" + prometheus_label(c.name) + "\"} " +
               std::to_string(c.rows) + "\n";
      append_metric_header(out, "fiskil_gateway_journal_consumer_lag_seconds", "gauge",
                           "Age of the oldest row a registered journal consumer has not passed (0 when caught up).");
      for (const consumer_lag& c : lags_)
        out += "fiskil_gateway_journal_consumer_lag_seconds{consumer=\"" + prometheus_label(c.name) + "\"} " +
               std::to_string(c.seconds) + "\n";
    }
    out += "# HELP fiskil_gateway_journal_ready 1 when the journal is writable (/readyz).\n"
           "# TYPE fiskil_gateway_journal_ready gauge\nfiskil_gateway_journal_ready ";
    out += ready() ? "1\n" : "0\n";
  }

  void stop() override {
    {
      const std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_one();
    if (writer_.joinable()) writer_.join();
    close_database();
    checkpointer_.reset();  // after the writer's connection, whose WAL hook points to it
  }

 private:
  // --- the database (writer thread only, after start) ---

  bool exec(const char* sql, std::string& error) {
    char* message = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &message) != SQLITE_OK) {
      error = message != nullptr ? message : sqlite3_errmsg(db_);
      sqlite3_free(message);
      return false;
    }
    return true;
  }

  // open_database opens the journal. create (only at start) makes the file,
  // its schema and its identity when they are missing; otherwise (reopening
  // after a failure) the file must exist and carry the identity read at
  // start, or nothing is opened.
  bool open_database(std::string& error, bool create) {
    close_database();
    memory_ = options_.path == ":memory:";
    const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create || memory_ ? SQLITE_OPEN_CREATE : 0);
    if (sqlite3_open_v2(options_.path.c_str(), &db_, flags, nullptr) != SQLITE_OK) {
      error = options_.path + ": " + (db_ != nullptr ? sqlite3_errmsg(db_) : "cannot open") +
              (create ? "" : " (the journal opened at start is gone; it is never re-created at run time)");
      close_database();
      return false;
    }
    sqlite3_extended_result_codes(db_, 1);
    // A consumer holds the write lock only briefly; longer than this and the
    // delivery is answered 503 (the provider retries) rather than waiting.
    sqlite3_busy_timeout(db_, static_cast<int>(options_.busy_timeout.count()));
    std::string why;
    if (!create && !memory_) {
      // Check the identity before writing anything to the file.
      std::string found;
      if (!read_journal_id(found, why) || found != journal_id_) {
        error = options_.path + ": " +
                (why.empty() ? "not the journal opened at start (journal_id " + (found.empty() ? "missing" : found) +
                                   ", expected " + journal_id_ + ")"
                             : why);
        close_database();
        return false;
      }
    }
    const char* pragmas = memory_ ? "PRAGMA journal_mode=MEMORY; PRAGMA synchronous=OFF;"
                                  : "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA wal_autocheckpoint=0;";
    const std::string size_limit = "PRAGMA journal_size_limit=" + std::to_string(options_.wal_limit) + ";";
    if (!exec(pragmas, why) || (!memory_ && !exec(size_limit.c_str(), why)) || !exec(journal_schema, why)) {
      error = options_.path + ": " + why;
      close_database();
      return false;
    }
    if (create) {
      std::string found;
      if (!read_journal_id(found, why)) {
        error = options_.path + ": " + why;
        close_database();
        return false;
      }
      if (found.empty()) {
        found = random_id();
        const std::string insert =
            "INSERT INTO gateway_meta (key, value) VALUES ('journal_id', '" + found + "') ON CONFLICT (key) DO NOTHING";
        if (!exec(insert.c_str(), why) || !read_journal_id(found, why) || found.empty()) {
          error = options_.path + ": cannot record the journal's identity: " + why;
          close_database();
          return false;
        }
      }
      journal_id_ = found;
    }
    if (!memory_) {
      struct stat st{};
      if (::stat(options_.path.c_str(), &st) == 0) inode_ = st.st_ino;
    }
    if (checkpointer_) sqlite3_wal_hook(db_, &journal_checkpointer::wal_hook, checkpointer_.get());
    const bool prepared = batch_.prepare(db_);
    if (!prepared) {
      error = options_.path + ": " + sqlite3_errmsg(db_);
      close_database();
      return false;
    }
    return true;
  }

  // read_journal_id reads gateway_meta's journal_id into id (empty when the
  // table or the row is missing). Returns false on a database error.
  bool read_journal_id(std::string& id, std::string& error) {
    id.clear();
    sqlite_statement read;
    if (!read.prepare(db_, "SELECT value FROM gateway_meta WHERE key = 'journal_id'")) {
      const std::string message = sqlite3_errmsg(db_);
      if (message.find("no such table") != std::string::npos) return true;
      error = message;
      return false;
    }
    const int rc = read.step();
    if (rc == SQLITE_ROW) {
      id.assign(reinterpret_cast<const char*>(sqlite3_column_text(read.get(), 0)),
                static_cast<std::size_t>(sqlite3_column_bytes(read.get(), 0)));
      return true;
    }
    if (rc == SQLITE_DONE) return true;
    error = sqlite3_errmsg(db_);
    return false;
  }

  void close_database() {
    batch_.finalize();
    if (db_ != nullptr) sqlite3_close_v2(db_);
    db_ = nullptr;
  }

  // still_there is false when the file at path is no longer the database
  // open (removed or replaced): writes would go to an unlinked file.
  bool still_there() const {
    if (memory_) return true;
    struct stat st{};
    return ::stat(options_.path.c_str(), &st) == 0 && st.st_ino == inode_;
  }

  void fail(std::string_view what, std::string reason = {}) {
    failures_.fetch_add(1, std::memory_order_relaxed);
    const bool was = healthy_.exchange(false, std::memory_order_acq_rel);
    if (reason.empty()) reason = db_ != nullptr ? sqlite3_errmsg(db_) : "not open";
    log("error", "journal_write_failed",
        {{"step", what}, {"reason", reason}, {"path", options_.path}, {"ready", "false"},
         {"first", was ? "true" : "false"}});
  }

  // write_batch keeps batch in one transaction and answers each record.
  void write_batch(std::vector<pending>& batch) {
    verdicts_.assign(batch.size(), stored::unavailable);
    const auto started = std::chrono::steady_clock::now();
    std::string why;
    bool ok = true;
    if (db_ != nullptr && !still_there()) identity_lost();
    if (db_ == nullptr) {
      // Closed after a failure, or the file was removed or replaced: reopen
      // the journal at the path only if it is the one opened at start.
      if (!open_database(why, false)) {
        ok = false;
        fail("open", why);
      } else {
        identity_back();
      }
    }
    if (ok) {
      records_in_batch_.clear();
      for (const pending& p : batch) records_in_batch_.push_back(&p.rec);
      if (const char* failed = batch_.write(records_in_batch_, verdicts_, why)) {
        ok = false;
        fail(failed, why);
        close_database();  // the next batch or probe reopens it
      } else if (!still_there()) {
        // Removed or replaced during the transaction: the commit went to a
        // file no one will read again. Not kept.
        identity_lost();
        ok = false;
        std::fill(verdicts_.begin(), verdicts_.end(), stored::unavailable);
        fail("commit", "the journal file was removed or replaced during the commit");
        close_database();
      }
    }
    if (ok) {
      commit_latency_.observe(
          std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - started).count());
      batches_.fetch_add(1, std::memory_order_relaxed);
      std::size_t bucket = 0;
      while ((std::size_t{1} << bucket) < batch.size() && bucket + 1 < batch_sizes_.size()) ++bucket;
      batch_sizes_[bucket].fetch_add(1, std::memory_order_relaxed);
      batch_size_sum_.fetch_add(batch.size(), std::memory_order_relaxed);
      std::size_t kept = 0;
      for (const stored v : verdicts_) kept += v == stored::kept ? 1 : 0;
      records_.fetch_add(kept, std::memory_order_relaxed);
      recovered();
    }
    for (std::size_t i = 0; i < batch.size(); ++i) batch[i].done(verdicts_[i]);
    batch.clear();  // release the callbacks (and the connections they hold) now
  }

  // identity_lost: the file at the path is not the journal opened at start
  // (removed or replaced). Close it; writes fail until it is back.
  void identity_lost() {
    if (!identity_lost_.exchange(true))
      log("error", "journal_file_replaced",
          {{"path", options_.path}, {"journal_id", journal_id_},
           {"detail", "the journal file was removed or replaced; every delivery is answered 503 until it is back "
                      "or the gateway restarts (it is never re-created at run time)"}});
    close_database();
  }
  void identity_back() {
    if (identity_lost_.exchange(false)) log("info", "journal_file_back", {{"path", options_.path}});
  }

  void recovered() {
    if (!healthy_.exchange(true, std::memory_order_acq_rel))
      log("info", "journal_writable", {{"path", options_.path}, {"ready", "true"}});
  }

  // probe tries a small write while the journal is not ready, reopening the
  // database first.
  void probe() {
    std::string error;
    if (db_ != nullptr && !still_there()) identity_lost();
    if (!open_database(error, false)) {
      log("warn", "journal_probe_failed", {{"reason", error}});
      return;
    }
    identity_back();
    if (exec("BEGIN IMMEDIATE; INSERT INTO gateway_meta (key, value) VALUES ('probe', strftime('%s','now'))"
             " ON CONFLICT (key) DO UPDATE SET value = excluded.value; COMMIT;",
             error)) {
      recovered();
    } else {
      std::string ignored;
      (void)exec("ROLLBACK", ignored);
      log("warn", "journal_probe_failed", {{"reason", error}});
    }
  }

  // prune deletes up to 1000 of the oldest rows received before now - keep,
  // never one a registered consumer has not passed (seq above its cursor).
  void prune() {
    sqlite_statement del;
    if (db_ == nullptr ||
        !del.prepare(db_,
                     "DELETE FROM deliveries WHERE seq IN (SELECT seq FROM (SELECT seq, received_time_ns FROM"
                     " deliveries ORDER BY seq LIMIT 1000) WHERE received_time_ns < ?1 AND seq <= (SELECT"
                     " COALESCE(min(seq), 9223372036854775807) FROM consumer_cursor))"))
      return;
    const std::int64_t cutoff =
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count() -
        options_.keep.count();
    del.integer(1, cutoff);
    if (del.step() == SQLITE_DONE) {
      const int removed = sqlite3_changes(db_);
      pruned_.fetch_add(static_cast<std::uint64_t>(removed), std::memory_order_relaxed);
      more_to_prune_ = removed == 1000;
    }
  }

  // measure_consumers reads each registered consumer's lag, for /metrics.
  void measure_consumers() {
    sqlite_statement read;
    if (db_ == nullptr ||
        !read.prepare(db_,
                      "SELECT c.name, (SELECT COUNT(*) FROM deliveries d WHERE d.seq > c.seq),"
                      " (SELECT d.received_time_ns FROM deliveries d WHERE d.seq > c.seq ORDER BY d.seq LIMIT 1)"
                      " FROM consumer_cursor c ORDER BY c.name LIMIT 100"))
      return;
    const std::int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                                 std::chrono::system_clock::now().time_since_epoch())
                                 .count();
    std::vector<consumer_lag> lags;
    while (read.step() == SQLITE_ROW) {
      consumer_lag c;
      c.name.assign(reinterpret_cast<const char*>(sqlite3_column_text(read.get(), 0)),
                    static_cast<std::size_t>(sqlite3_column_bytes(read.get(), 0)));
      c.rows = static_cast<std::uint64_t>(sqlite3_column_int64(read.get(), 1));
      if (sqlite3_column_type(read.get(), 2) != SQLITE_NULL)
        c.seconds = std::max<double>(0, static_cast<double>(now - sqlite3_column_int64(read.get(), 2)) / 1e9);
      lags.push_back(std::move(c));
    }
    const std::lock_guard lock(lag_mutex_);
    lags_.swap(lags);
  }

  void warm_on_writer(fw::receiver& receiver, std::int64_t now_ns, std::int64_t retention_ns) {
    if (db_ == nullptr) return;
    const fw::timestamp now{std::chrono::nanoseconds{now_ns}};
    std::size_t ids = 0, consents = 0;
    sqlite_statement rows;
    // Newest first; a row received more than two retentions ago cannot have
    // a publish_time inside one (publish_time >= received - max_age - skew).
    if (rows.prepare(db_, "SELECT message_id, publish_time_ns, received_time_ns FROM deliveries ORDER BY seq DESC")) {
      while (rows.step() == SQLITE_ROW) {
        const std::int64_t publish = sqlite3_column_int64(rows.get(), 1);
        const std::int64_t received = sqlite3_column_int64(rows.get(), 2);
        if (received < now_ns - 2 * retention_ns) break;
        if (publish < now_ns - retention_ns) continue;
        const auto* id = reinterpret_cast<const char*>(sqlite3_column_text(rows.get(), 0));
        const std::string_view message_id(id, static_cast<std::size_t>(sqlite3_column_bytes(rows.get(), 0)));
        if (receiver.store().remember(message_id, fw::timestamp{std::chrono::nanoseconds{publish}}, now)) ++ids;
      }
    }
    sqlite_statement states;
    if (states.prepare(db_, "SELECT consent_id, change, publish_time_ns FROM consents WHERE publish_time_ns >= ?1")) {
      states.integer(1, now_ns - retention_ns);
      while (states.step() == SQLITE_ROW) {
        const auto* id = reinterpret_cast<const char*>(sqlite3_column_text(states.get(), 0));
        const std::string_view consent_id(id, static_cast<std::size_t>(sqlite3_column_bytes(states.get(), 0)));
        const int change = sqlite3_column_int(states.get(), 1);
        if (change < 1 || change > 3) continue;
        if (receiver.consents().observe(consent_id, static_cast<fw::consent_change>(change),
                                        fw::timestamp{std::chrono::nanoseconds{sqlite3_column_int64(states.get(), 2)}},
                                        now))
          ++consents;
      }
    }
    log("info", "journal_warmed", {{"message_ids", std::to_string(ids)}, {"consents", std::to_string(consents)}});
  }

  void run() {
    std::vector<pending> batch, overflow;
    std::deque<std::packaged_task<void()>> tasks;
    auto next_prune = std::chrono::steady_clock::now();
    for (;;) {
      bool stopping = false;
      {
        std::unique_lock lock(mutex_);
        writer_waiting_ = true;
        wake_.wait_for(lock, std::chrono::milliseconds(healthy_.load() ? 1000 : 500), [&] {
          return stopping_ || !queue_.empty() || !overflow_.empty() || !tasks_.empty();
        });
        writer_waiting_ = false;
        stopping = stopping_;
        // The whole queue in one swap (its buffer comes back for reuse), or
        // the first max_batch under overload.
        batch.clear();
        if (queue_.size() <= max_batch) {
          batch.swap(queue_);
        } else {
          batch.assign(std::make_move_iterator(queue_.begin()), std::make_move_iterator(queue_.begin() + max_batch));
          queue_.erase(queue_.begin(), queue_.begin() + max_batch);
        }
        overflow.swap(overflow_);
        tasks.swap(tasks_);
      }
      for (pending& p : overflow) {
        queue_full_.fetch_add(1, std::memory_order_relaxed);
        p.done(stored::unavailable);
      }
      overflow.clear();
      if (!batch.empty()) write_batch(batch);
      for (auto& task : tasks) task();
      tasks.clear();
      bool idle = false;
      {
        const std::lock_guard lock(mutex_);
        idle = queue_.empty();
        if (stopping && idle && overflow_.empty() && tasks_.empty()) break;
      }
      if (!idle || stopping) continue;
      if (!healthy_.load()) {
        probe();
      } else if (std::chrono::steady_clock::now() >= next_prune) {
        if (options_.keep.count() > 0) prune();
        if (!more_to_prune_) {
          measure_consumers();
          next_prune = std::chrono::steady_clock::now() + std::chrono::seconds(1);
        }
      }
    }
  }

  struct consumer_lag {
    std::string name;
    std::uint64_t rows = 0;
    double seconds = 0;
  };

  journal_options options_;
  std::string journal_id_;  // read or made at start
  std::atomic<bool> identity_lost_{false};
  mutable std::mutex lag_mutex_;
  std::vector<consumer_lag> lags_;
  sqlite3* db_ = nullptr;
  bool memory_ = false;
  ino_t inode_ = 0;
  journal_batch batch_;
  std::vector<const record*> records_in_batch_;  // reused
  std::vector<stored> verdicts_;                 // reused
  std::unique_ptr<journal_checkpointer> checkpointer_;
  bool more_to_prune_ = false;

  std::mutex mutex_;
  std::condition_variable wake_;
  static constexpr std::size_t max_batch = 4096;
  std::vector<pending> queue_;
  std::vector<pending> overflow_;
  std::deque<std::packaged_task<void()>> tasks_;
  bool stopping_ = false;
  bool writer_waiting_ = false;
  std::thread writer_;

  std::atomic<bool> healthy_{true};
  histogram commit_latency_;
  // batch_sizes_[i]: committed batches of more than 2^(i-1) and at most 2^i
  // deliveries (max_batch is 2^12).
  std::array<std::atomic<std::uint64_t>, 13> batch_sizes_{};
  std::atomic<std::uint64_t> batch_size_sum_{0};
  std::atomic<std::uint64_t> batches_{0}, records_{0}, failures_{0}, queue_full_{0}, pruned_{0};
};

}  // namespace

std::unique_ptr<storage> open_journal(const journal_options& options, std::string& error) {
  auto made = std::make_unique<journal>(options);
  if (!made->start(error)) return nullptr;
  log("info", "journal_opened", {{"path", options.path}});
  return made;
}

}  // namespace fiskil::gateway
