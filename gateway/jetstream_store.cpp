// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
//
// JetStream store. Design and failure branches: docs/jetstream.md.
//
// Threads: append() only queues (never touches the network, so the gateway's
// io threads never block on NATS); `workers` threads hand each plain message
// to the C client's asynchronous publish (the client's acknowledgement thread
// calls done), and run a consent event whole, with blocking calls: read,
// claim, synchronous publish, confirm (consent_state.hpp holds the pure
// part); a monitor thread creates or checks the stream and the bucket once
// connected, and probes JetStream after a failure to restore readiness.
#include "jetstream_store.hpp"

#include "consent_state.hpp"

#include <nats/nats.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>
#include <condition_variable>
#include <cstdlib>
#include <cstdio>
#include <deque>
#include <mutex>
#include <optional>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

namespace fiskil::gateway {

namespace {

using clock = std::chrono::steady_clock;

constexpr std::array<double, 12> ack_buckets = {0.0005, 0.001, 0.002, 0.005, 0.01, 0.02,
                                                0.05,   0.1,   0.25,  0.5,   1.0,  5.0};

std::string nats_error(natsStatus s) {
  std::string text = natsStatus_GetText(s);
  natsStatus last = NATS_OK;
  const char* detail = nats_GetLastError(&last);
  if (detail != nullptr && *detail != '\0' && text != detail) {
    text += ": ";
    text += detail;
  }
  return text;
}

bool plain_token_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

std::string hex(std::string_view bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (const char c : bytes) {
    const auto u = static_cast<unsigned char>(c);
    out += digits[u >> 4];
    out += digits[u & 15];
  }
  return out;
}

std::vector<std::string> split_servers(std::string_view list) {
  std::vector<std::string> out;
  while (!list.empty()) {
    const std::size_t comma = list.find(',');
    std::string_view one = list.substr(0, comma);
    while (!one.empty() && one.front() == ' ') one.remove_prefix(1);
    while (!one.empty() && one.back() == ' ') one.remove_suffix(1);
    if (!one.empty()) out.emplace_back(one);
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return out;
}

}  // namespace

struct jetstream_store::impl {
  struct job {
    record r;
    std::function<void(stored)> done;
    bool rejected = false;
  };
  struct awaiting {
    std::function<void(stored)> done;
    clock::time_point start;
  };

  jetstream_options options;
  std::string subject_all;

  natsOptions* nopts = nullptr;
  natsConnection* nc = nullptr;
  jsCtx* js = nullptr;
  kvStore* kv = nullptr;

  // The stream's replicas: options.replicas, or (when 0) chosen on the
  // first connection by choose_replicas.
  std::atomic<int> replicas{0};
  std::atomic<bool> connected{false};
  std::atomic<bool> set_up{false};
  std::atomic<bool> unhealthy{false};
  std::atomic<bool> stopping{false};
  bool stopped = false;  // under stop_mu
  std::mutex stop_mu;

  std::mutex queue_mu;
  std::condition_variable queue_cv;
  std::deque<job> queue;
  std::vector<std::thread> workers;
  std::atomic<std::size_t> in_flight{0};

  std::mutex await_mu;
  std::unordered_map<natsMsg*, awaiting> awaiting_ack;
  std::atomic<int> callbacks_running{0};
  // js_PublishAsyncGetPendingList crashes (libnats 3.4) on a context that
  // never published asynchronously.
  std::atomic<bool> published_any{false};

  std::mutex monitor_mu;
  std::condition_variable monitor_cv;
  std::thread monitor;

  std::mutex closed_mu;
  std::condition_variable closed_cv;
  bool closed = false;

  // Metrics.
  std::atomic<std::uint64_t> disconnects{0}, reconnects{0};
  std::atomic<std::uint64_t> pub_kept{0}, pub_duplicate{0}, pub_timeout{0}, pub_failed{0}, rejected{0};
  std::atomic<std::uint64_t> c_newer{0}, c_mine{0}, c_duplicate{0}, c_stale{0}, c_revoked{0}, c_cas_failed{0},
      c_read_failed{0}, c_pending_busy{0}, c_resolved_present{0}, c_resolved_absent{0}, c_cleared{0},
      c_confirm_failed{0};
  mutable std::mutex hist_mu;
  std::array<std::uint64_t, ack_buckets.size()> hist{};
  std::uint64_t hist_count = 0;
  double hist_sum = 0;

  void log(const std::string& line) const {
    if (options.log) options.log(line);
  }

  // ---- connection callbacks (the client's callback thread) ----
  static void on_disconnected(natsConnection*, void* closure) {
    auto* self = static_cast<impl*>(closure);
    self->connected = false;
    if (self->stopping) return;
    ++self->disconnects;
    self->log("jetstream: disconnected (reconnecting)");
  }
  static void on_reconnected(natsConnection* conn, void* closure) {
    auto* self = static_cast<impl*>(closure);
    self->connected = true;
    ++self->reconnects;
    char url[256] = {0};
    natsConnection_GetConnectedUrl(conn, url, sizeof url);
    self->log(std::string("jetstream: reconnected to ") + url);
    self->monitor_cv.notify_all();
  }
  static void on_connected(natsConnection* conn, void* closure) {
    auto* self = static_cast<impl*>(closure);
    self->connected = true;
    char url[256] = {0};
    natsConnection_GetConnectedUrl(conn, url, sizeof url);
    self->log(std::string("jetstream: connected to ") + url);
    self->monitor_cv.notify_all();
  }
  static void on_closed(natsConnection*, void* closure) {
    auto* self = static_cast<impl*>(closure);
    self->connected = false;
    std::lock_guard lock(self->closed_mu);
    self->closed = true;
    self->closed_cv.notify_all();
  }

  // ---- stream and bucket ----
  bool set_up_stream(std::string& error, bool& fatal) {
    fatal = false;
    jsStreamInfo* si = nullptr;
    jsErrCode jerr{};
    const std::int64_t window = options.duplicate_window.count();
    const std::int64_t max_age = std::max(options.max_age.count(), window);
    const jsStorageType storage = options.memory_storage ? js_MemoryStorage : js_FileStorage;
    natsStatus s = js_GetStreamInfo(&si, js, options.stream.c_str(), nullptr, &jerr);
    if (s == NATS_NOT_FOUND) {
      jsStreamConfig cfg;
      jsStreamConfig_Init(&cfg);
      const char* subjects[] = {subject_all.c_str()};
      cfg.Name = options.stream.c_str();
      cfg.Subjects = subjects;
      cfg.SubjectsLen = 1;
      cfg.Duplicates = window;
      cfg.MaxAge = max_age;
      cfg.Replicas = replicas.load();
      cfg.Storage = storage;
      s = js_AddStream(&si, js, &cfg, nullptr, &jerr);
      if (s != NATS_OK) {
        error = "cannot create stream " + options.stream + ": " + nats_error(s) + replicas_hint(jerr, fatal);
        jsStreamInfo_Destroy(si);
        return false;
      }
      log("jetstream: created stream " + options.stream + " (" + subject_all + ", " +
          std::to_string(replicas.load()) + " replicas, duplicate window " + std::to_string(window / 1000000000) +
          " s)");
      jsStreamInfo_Destroy(si);
      return true;
    }
    if (s != NATS_OK) {
      error = "cannot read stream " + options.stream + ": " + nats_error(s);
      return false;
    }
    jsStreamConfig* cfg = si->Config;
    bool takes = false;
    for (int i = 0; i < cfg->SubjectsLen; ++i) takes = takes || subject_all == cfg->Subjects[i];
    if (!takes) {
      error = "stream " + options.stream + " exists without the subject " + subject_all;
      fatal = true;
      jsStreamInfo_Destroy(si);
      return false;
    }
    if (cfg->Storage != storage)
      log("jetstream: stream " + options.stream + " keeps its existing storage type (it cannot be changed)");
    const bool short_window = cfg->Duplicates < window;
    const bool short_age = cfg->MaxAge != 0 && cfg->MaxAge < window;
    const bool replicas_differ = cfg->Replicas != replicas.load();
    if (short_window || short_age || replicas_differ) {
      if (short_window) cfg->Duplicates = window;
      if (short_age) cfg->MaxAge = max_age;
      cfg->Replicas = replicas.load();
      jsStreamInfo* updated = nullptr;
      s = js_UpdateStream(&updated, js, cfg, nullptr, &jerr);
      jsStreamInfo_Destroy(updated);
      if (s != NATS_OK) {
        error = "cannot update stream " + options.stream + ": " + nats_error(s) + replicas_hint(jerr, fatal);
        jsStreamInfo_Destroy(si);
        return false;
      }
      log("jetstream: updated stream " + options.stream + " (duplicate window, max age or replicas)");
    }
    jsStreamInfo_Destroy(si);
    return true;
  }

  bool set_up_bucket(std::string& error) {
    kvStore* bucket = nullptr;
    natsStatus s = js_KeyValue(&bucket, js, options.consent_bucket.c_str());
    if (s == NATS_NOT_FOUND) {
      kvConfig cfg;
      kvConfig_Init(&cfg);
      cfg.Bucket = options.consent_bucket.c_str();
      cfg.History = 1;
      cfg.TTL = options.duplicate_window.count();
      cfg.Replicas = options.consent_bucket_replicas != 0 ? options.consent_bucket_replicas : replicas.load();
      cfg.StorageType = options.memory_storage ? js_MemoryStorage : js_FileStorage;
      s = js_CreateKeyValue(&bucket, js, &cfg);
      if (s == NATS_OK) log("jetstream: created consent bucket " + options.consent_bucket);
    }
    if (s != NATS_OK) {
      error = "cannot open consent bucket " + options.consent_bucket + ": " + nats_error(s);
      return false;
    }
    kv = bucket;
    return true;
  }

  static constexpr const char* lone_server_hint =
      "; a stream of one replica loses every kept delivery with its server's disk: pass --stream-replicas 1 to "
      "accept that (not durable), or run a cluster of three or more servers";

  // replicas_hint: when the replicas were chosen, not asked for, and the
  // server has too few peers for them, the error is fatal and says what to do.
  std::string replicas_hint(jsErrCode jerr, bool& fatal) const {
    if (options.replicas != 0 || (jerr != JSStreamReplicasNotSupportedErr && jerr != JSInsufficientResourcesErr))
      return "";
    fatal = true;
    return std::string(" (") + std::to_string(replicas.load()) + " replicas chosen by default)" + lone_server_hint;
  }

  // choose_replicas (replicas 0): 3 when the connection knows three or more
  // servers (the URLs given and the cluster's client URLs that the server
  // advertises in its INFO), else refuse: the error is fatal.
  bool choose_replicas(std::string& error, bool& fatal) {
    if (replicas != 0) return true;
    if (options.replicas != 0) {
      replicas = options.replicas;
      return true;
    }
    char** servers = nullptr;
    int count = 0;
    const natsStatus s = natsConnection_GetServers(nc, &servers, &count);
    if (s != NATS_OK) {
      error = "cannot list the NATS servers: " + nats_error(s);
      return false;
    }
    std::vector<std::string> distinct;
    for (int i = 0; i < count; ++i) {
      if (std::find(distinct.begin(), distinct.end(), servers[i]) == distinct.end()) distinct.emplace_back(servers[i]);
      std::free(servers[i]);
    }
    std::free(servers);
    if (distinct.size() < 3) {
      error = "the NATS server " + std::string(distinct.size() == 1 ? "is alone" : "cluster has fewer than three servers") +
              " (" + std::to_string(distinct.size()) + " known)" + lone_server_hint;
      fatal = true;
      return false;
    }
    replicas = 3;
    log("jetstream: " + std::to_string(distinct.size()) + " NATS servers known: stream and bucket with 3 replicas");
    return true;
  }

  bool set_up_all(std::string& error, bool& fatal) {
    fatal = false;
    if (!choose_replicas(error, fatal)) return false;
    if (!set_up_stream(error, fatal)) return false;
    if (kv == nullptr && !set_up_bucket(error)) return false;
    set_up = true;
    return true;
  }

  void monitor_loop() {
    std::string last_error;
    while (!stopping) {
      if (connected && !set_up) {
        std::string error;
        bool fatal = false;
        if (!set_up_all(error, fatal) && error != last_error) {
          log("jetstream: " + error);
          last_error = error;
        }
      } else if (set_up && unhealthy && connected) {
        jsStreamInfo* si = nullptr;
        const natsStatus s = js_GetStreamInfo(&si, js, options.stream.c_str(), nullptr, nullptr);
        if (s == NATS_OK) {
          unhealthy = false;
          log("jetstream: stream " + options.stream + " answers again");
        } else if (s == NATS_NOT_FOUND) {
          // Deleted under the running gateway: create it again.
          log("jetstream: stream " + options.stream + " is gone; creating it again");
          set_up = false;
        }
        jsStreamInfo_Destroy(si);
      }
      std::unique_lock lock(monitor_mu);
      monitor_cv.wait_for(lock, std::chrono::milliseconds(200));
    }
  }

  // ---- publishing ----
  void finish(std::function<void(stored)>& done, stored what) {
    in_flight.fetch_sub(1, std::memory_order_relaxed);
    done(what);
  }

  static void on_ack(jsCtx*, natsMsg* msg, jsPubAck* pa, jsPubAckErr* pae, void* closure) {
    auto* self = static_cast<impl*>(closure);
    ++self->callbacks_running;
    std::optional<awaiting> found;
    {
      std::lock_guard lock(self->await_mu);
      const auto it = self->awaiting_ack.find(msg);
      if (it != self->awaiting_ack.end()) {
        found.emplace(std::move(it->second));
        self->awaiting_ack.erase(it);
      }
    }
    natsMsg_Destroy(msg);
    if (found) {
      stored what = stored::unavailable;
      if (pa != nullptr) {
        what = pa->Duplicate ? stored::duplicate : stored::kept;
        ++(pa->Duplicate ? self->pub_duplicate : self->pub_kept);
        self->unhealthy = false;
        self->observe_ack(clock::now() - found->start);
      } else {
        ++(pae != nullptr && pae->Err == NATS_TIMEOUT ? self->pub_timeout : self->pub_failed);
        if (!self->unhealthy.exchange(true))
          self->log(std::string("jetstream: publish failed: ") +
                    (pae != nullptr && pae->ErrText != nullptr ? pae->ErrText
                     : pae != nullptr                          ? natsStatus_GetText(pae->Err)
                                                               : "unknown"));
      }
      self->finish(found->done, what);
    }
    --self->callbacks_running;
  }

  void observe_ack(clock::duration took) {
    const double seconds = std::chrono::duration<double>(took).count();
    std::lock_guard lock(hist_mu);
    for (std::size_t i = 0; i < ack_buckets.size(); ++i)
      if (seconds <= ack_buckets[i]) ++hist[i];
    ++hist_count;
    hist_sum += seconds;
  }

  // publish hands r to the client; done is called by on_ack, or here (on a
  // worker thread) when the client refuses the message.
  void publish(job& j) {
    const record& r = j.r;
    natsMsg* msg = build_msg(r);
    natsStatus s = msg != nullptr ? NATS_OK : NATS_NO_MEMORY;
    const std::string id = msg_id(r.message_id);
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MsgId = id.c_str();
    po.MaxWait = options.ack_timeout.count();
    po.ExpectStream = options.stream.c_str();
    if (s == NATS_OK && !connected) s = NATS_CONNECTION_DISCONNECTED;
    if (s == NATS_OK) {
      std::lock_guard lock(await_mu);
      awaiting_ack.emplace(msg, awaiting{std::move(j.done), clock::now()});
    }
    natsMsg* owned = msg;
    if (s == NATS_OK) {
      published_any = true;
      s = js_PublishMsgAsync(js, &msg, &po);
      if (s != NATS_OK) {
        // The client did not take the message: on_ack will not run for it.
        std::lock_guard lock(await_mu);
        const auto it = awaiting_ack.find(owned);
        if (it != awaiting_ack.end()) {
          j.done = std::move(it->second.done);
          awaiting_ack.erase(it);
        }
      }
    }
    if (s != NATS_OK) {
      natsMsg_Destroy(msg);
      ++pub_failed;
      if (!unhealthy.exchange(true)) log("jetstream: publish refused: " + nats_error(s));
      finish(j.done, stored::unavailable);
    }
  }

  std::string subject_for(std::string_view event_name) const {
    const bool known = fw::detail::event_index(event_name) != fw::detail::unknown_event_index;
    return options.subject_prefix + '.' + (known ? std::string(event_name) : std::string("unknown"));
  }

  // ---- consent events (docs/jetstream.md, "Consent order") ----
  //
  // A consent event is published synchronously from its worker thread,
  // between two compare-and-sets on its consent's value: pending := E, then
  // (after the stream's acknowledgement) confirmed := E. Every answer given
  // without publishing is decided against the confirmed state only.

  static std::int64_t wall_now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }

  enum class read_result { ok, failed };

  // read_value reads a consent's value through the bucket stream's leader
  // (js_GetLastMsg, a STREAM.MSG.GET request: a direct get, which kvStore_Get
  // uses when the bucket allows it, may be answered by a lagging replica).
  // revision is 0 when the key holds no value.
  read_result read_value(const std::string& key, std::optional<consent_value>& value, std::uint64_t& revision) {
    value.reset();
    revision = 0;
    natsMsg* m = nullptr;
    jsErrCode jerr{};
    const std::string stream = "KV_" + options.consent_bucket;
    const std::string subject = "$KV." + options.consent_bucket + "." + key;
    const natsStatus s = js_GetLastMsg(&m, js, stream.c_str(), subject.c_str(), nullptr, &jerr);
    if (s == NATS_NOT_FOUND || (s != NATS_OK && jerr == JSNoMessageFoundErr)) return read_result::ok;
    if (s != NATS_OK) {
      ++c_read_failed;
      if (!unhealthy.exchange(true)) log("jetstream: consent read failed: " + nats_error(s));
      return read_result::failed;
    }
    revision = natsMsg_GetSequence(m);
    const char* op = nullptr;
    if (natsMsgHeader_Get(m, "KV-Operation", &op) != NATS_OK) {  // not a delete or purge marker
      const std::string_view text(natsMsg_GetData(m), static_cast<std::size_t>(natsMsg_GetDataLength(m)));
      value = decode_consent_value(text);
      if (!value) log("jetstream: consent state under " + key + " is unreadable; it will be replaced");
    }
    natsMsg_Destroy(m);
    return read_result::ok;
  }

  // cas writes value under key if the key's last revision is still
  // `revision` (0: the key holds nothing). On success revision is the new one.
  bool cas(const std::string& key, const consent_value& value, std::uint64_t& revision) {
    const std::string text = encode_consent_value(value);
    std::uint64_t written = 0;
    const natsStatus s =
        revision == 0 ? kvStore_Create(&written, kv, key.c_str(), text.data(), static_cast<int>(text.size()))
                      : kvStore_Update(&written, kv, key.c_str(), text.data(), static_cast<int>(text.size()), revision);
    if (s != NATS_OK) return false;
    revision = written;
    return true;
  }

  // build_msg makes r's message, with its headers; nullptr on failure.
  natsMsg* build_msg(const record& r) const {
    natsMsg* msg = nullptr;
    const std::string subject = subject_for(r.event_name);
    natsStatus s = natsMsg_Create(&msg, subject.c_str(), nullptr, r.body.data(), static_cast<int>(r.body.size()));
    const std::string publish_time = std::to_string(r.publish_time_ns);
    const std::string received_time = std::to_string(r.received_time_ns);
    const std::string key_index = std::to_string(r.key_index);
    if (s == NATS_OK) s = natsMsgHeader_Set(msg, "Fiskil-Signature", r.signature.c_str());
    if (s == NATS_OK) s = natsMsgHeader_Set(msg, "Fiskil-Publish-Time", publish_time.c_str());
    if (s == NATS_OK) s = natsMsgHeader_Set(msg, "Fiskil-Received-Time", received_time.c_str());
    if (s == NATS_OK) s = natsMsgHeader_Set(msg, "Fiskil-Key-Index", key_index.c_str());
    if (s != NATS_OK) {
      natsMsg_Destroy(msg);
      return nullptr;
    }
    return msg;
  }

  // publish_sync publishes r and waits for the acknowledgement (a consent
  // event only: its confirmation must follow the acknowledgement).
  stored publish_sync(const record& r) {
    natsMsg* msg = build_msg(r);
    if (msg == nullptr || !connected) {
      natsMsg_Destroy(msg);
      ++pub_failed;
      return stored::unavailable;
    }
    const std::string id = msg_id(r.message_id);
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MsgId = id.c_str();
    po.MaxWait = options.ack_timeout.count();
    po.ExpectStream = options.stream.c_str();
    jsPubAck* pa = nullptr;
    jsErrCode jerr{};
    const auto start = clock::now();
    const natsStatus s = js_PublishMsg(&pa, js, msg, &po, &jerr);
    natsMsg_Destroy(msg);
    if (s != NATS_OK) {
      ++(s == NATS_TIMEOUT ? pub_timeout : pub_failed);
      if (!unhealthy.exchange(true)) log("jetstream: publish failed: " + nats_error(s));
      return stored::unavailable;
    }
    const bool duplicate = pa->Duplicate;
    jsPubAck_Destroy(pa);
    ++(duplicate ? pub_duplicate : pub_kept);
    unhealthy = false;
    observe_ack(clock::now() - start);
    return duplicate ? stored::duplicate : stored::kept;
  }

  enum class presence { present, absent, unknown };

  // probe finds whether the stream holds a message with this message id,
  // without ever storing one: a publish with its Nats-Msg-Id and an expected
  // last sequence no stream reaches. The server checks the duplicate window
  // first (an acknowledgement marked duplicate: present), then the expected
  // sequence (error 10071, wrong last sequence: absent, nothing stored).
  presence probe(const std::string& message_id) {
    natsMsg* msg = nullptr;
    const std::string subject = options.subject_prefix + ".unknown";
    if (natsMsg_Create(&msg, subject.c_str(), nullptr, nullptr, 0) != NATS_OK) return presence::unknown;
    const std::string id = msg_id(message_id);
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MsgId = id.c_str();
    po.MaxWait = options.ack_timeout.count();
    po.ExpectStream = options.stream.c_str();
    po.ExpectLastSeq = std::uint64_t{1} << 62;
    jsPubAck* pa = nullptr;
    jsErrCode jerr{};
    const natsStatus s = js_PublishMsg(&pa, js, msg, &po, &jerr);
    natsMsg_Destroy(msg);
    if (s == NATS_OK) {
      const bool duplicate = pa->Duplicate;
      jsPubAck_Destroy(pa);
      if (duplicate) return presence::present;
      log("jetstream: a presence probe for " + id + " was stored (unexpected)");
      return presence::unknown;
    }
    if (jerr == JSStreamWrongLastSequenceErr) return presence::absent;
    if (!unhealthy.exchange(true)) log("jetstream: presence probe failed: " + nats_error(s));
    return presence::unknown;
  }

  // publish_consent publishes a consent event whose value (`claimed`, at
  // `revision`) names it pending, then confirms it.
  stored publish_consent(const record& r, const std::string& key, const consent_value& claimed,
                         std::uint64_t revision) {
    stored what = stored::unavailable;
    bool sent = false;
    if (options.test_fail_publish && options.test_fail_publish(r)) {
      ++pub_failed;  // never left the process
    } else {
      sent = true;
      what = publish_sync(r);
    }
    if (what == stored::unavailable) {
      // A publish that was sent and not acknowledged may still be stored
      // (a paused server, a fail-over): the event stays pending, and the
      // next event of the consent resolves it against the stream once it is
      // stale (cluster-chaos found an update stored after the revocation
      // that had cleared it). Only one that never left is cleared at once;
      // best effort: a failed clear leaves it to that resolution too.
      if (!sent && !(options.test_skip_clear && options.test_skip_clear(r))) {
        std::uint64_t rev = revision;
        if (cas(key, drop_pending(claimed), rev)) ++c_cleared;
      }
      return stored::unavailable;
    }
    // Kept (acknowledged) whatever happens next: a failed confirmation is
    // left to the next event's resolution, which finds the message.
    if (options.test_skip_confirm && options.test_skip_confirm(r)) return what;
    std::uint64_t rev = revision;
    if (!cas(key, confirm_pending(claimed), rev)) {
      ++c_confirm_failed;
      log("jetstream: consent " + key + ": kept, confirmation failed (resolved by the next event)");
    }
    return what;
  }

  // consent keeps a consent event: published and confirmed, or answered
  // from the confirmed state without publishing.
  stored consent(const record& r) {
    const std::string key = consent_key(r.consent_id);
    const consent_event e{*r.consent_change, r.publish_time_ns, r.message_id};
    const auto wait_until = clock::now() + options.pending_wait;
    for (int attempt = 0; attempt < 16 && !stopping; ++attempt) {
      std::optional<consent_value> value;
      std::uint64_t revision = 0;
      if (read_value(key, value, revision) == read_result::failed) return stored::unavailable;
      const std::int64_t now = wall_now_ns();
      const consent_decision d = decide_consent(value, e, now, options.pending_bound.count());
      switch (d.step) {
        case consent_step::answer:
          ++(d.answer == stored::duplicate    ? c_duplicate
             : d.answer == stored::superseded ? c_stale
                                              : c_revoked);
          return d.answer;
        case consent_step::wait:
          if (clock::now() < wait_until) {
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
            --attempt;  // waiting is bounded by pending_wait, not by attempts
            continue;
          }
          ++c_pending_busy;
          return stored::unavailable;
        case consent_step::resolve: {
          const presence found = probe(value->pending->message_id);
          if (found == presence::unknown) return stored::unavailable;
          const consent_value next = found == presence::present ? confirm_pending(*value) : drop_pending(*value);
          if (cas(key, next, revision)) {
            ++(found == presence::present ? c_resolved_present : c_resolved_absent);
            log("jetstream: consent " + key + ": stale pending " + msg_id(value->pending->message_id) +
                (found == presence::present ? " is in the stream: confirmed" : " is not in the stream: dropped"));
          } else {
            ++c_cas_failed;
          }
          continue;
        }
        case consent_step::republish:
          // A retry of the pending event itself (its publish failed, or its
          // replica stopped): publish again; the stream deduplicates.
          ++c_mine;
          return publish_consent(r, key, *value, revision);
        case consent_step::claim: {
          if (options.test_before_cas) options.test_before_cas(r);
          const consent_value claimed = with_pending(value, e, now);
          if (!cas(key, claimed, revision)) {
            // Another replica moved the value first, or the call failed (and
            // may still have been applied): read again and decide again.
            ++c_cas_failed;
            continue;
          }
          // nats-server before 2.9.21 checks the expected revision before
          // proposing, not when applying (nats-io/nats-server#4320): two
          // replicas racing on one consent can both win. Read the value back
          // through the leader: if another claim was applied after this one,
          // leave the consent to it (503; the provider retries). This
          // narrows the race to claims applied after the read; it does not
          // close it (docs/jetstream.md, "Consent order on nats-server 2.9").
          {
            std::optional<consent_value> now_value;
            std::uint64_t now_revision = 0;
            if (read_value(key, now_value, now_revision) == read_result::failed) return stored::unavailable;
            if (now_revision != revision || !now_value || !now_value->pending ||
                now_value->pending->message_id != r.message_id) {
              ++c_cas_failed;
              log("jetstream: consent " + key + ": another replica's claim was applied after this one; retry");
              return stored::unavailable;
            }
          }
          ++c_newer;
          return publish_consent(r, key, claimed, revision);
        }
      }
    }
    return stored::unavailable;
  }

  void handle(job& j) {
    if (j.rejected) {
      ++rejected;
      finish(j.done, stored::unavailable);
      return;
    }
    if (!connected || !set_up) {
      ++pub_failed;
      finish(j.done, stored::unavailable);
      return;
    }
    if (j.r.consent_change && !j.r.consent_id.empty()) {
      finish(j.done, consent(j.r));
      return;
    }
    publish(j);
  }

  void worker_loop() {
    for (;;) {
      job j;
      {
        std::unique_lock lock(queue_mu);
        queue_cv.wait(lock, [&] { return stopping || !queue.empty(); });
        if (queue.empty()) return;
        j = std::move(queue.front());
        queue.pop_front();
      }
      handle(j);
    }
  }
};

jetstream_store::jetstream_store(std::unique_ptr<impl> p) : impl_(std::move(p)) {}

jetstream_store::~jetstream_store() { stop(); }

std::unique_ptr<jetstream_store> jetstream_store::open(const jetstream_options& options, std::string& error) {
  const std::vector<std::string> servers = split_servers(options.servers);
  if (servers.empty()) {
    error = "no NATS server URL";
    return nullptr;
  }
  if (options.replicas < 0 || options.replicas > 5) {
    error = "stream replicas must be 1 to 5, or 0 to choose";
    return nullptr;
  }
  if (options.duplicate_window <= std::chrono::nanoseconds::zero() || options.ack_timeout.count() <= 0 ||
      options.workers == 0 || options.max_in_flight == 0 || options.stream.empty() ||
      options.consent_bucket.empty() || options.subject_prefix.empty() ||
      options.pending_bound <= std::chrono::nanoseconds(options.ack_timeout)) {
    error = "invalid JetStream options";
    return nullptr;
  }
  // The stream must keep every message as long as a retry of it can be
  // admitted (the duplicate window, the receiver's retention) and a minute
  // more: else a retry after the message expired is kept a second time.
  if (options.max_age != std::chrono::nanoseconds::zero() &&
      options.max_age < options.duplicate_window + std::chrono::minutes{1}) {
    error = "the stream's max age (" + std::to_string(options.max_age.count() / 1000000000) +
            " s) is shorter than the receiver's retention (" +
            std::to_string(options.duplicate_window.count() / 1000000000) +
            " s: max age + future skew) plus a minute: a retry still admitted would be kept twice";
    return nullptr;
  }
  auto p = std::make_unique<impl>();
  p->options = options;
  p->replicas = options.replicas;
  p->subject_all = options.subject_prefix + ".>";

  std::vector<const char*> urls;
  for (const std::string& s : servers) urls.push_back(s.c_str());
  // The servers, the credentials and the connect timeout, for the probe and
  // for the connection.
  const auto common = [&](natsOptions*& o) {
    natsStatus st = natsOptions_Create(&o);
    if (st == NATS_OK) st = natsOptions_SetServers(o, urls.data(), static_cast<int>(urls.size()));
    if (st == NATS_OK) st = natsOptions_SetName(o, "fiskil-gateway");
    if (st == NATS_OK && !options.creds_file.empty())
      st = natsOptions_SetUserCredentialsFromFiles(o, options.creds_file.c_str(), nullptr);
    if (st == NATS_OK && !options.token.empty()) st = natsOptions_SetToken(o, options.token.c_str());
    if (st == NATS_OK) st = natsOptions_SetTimeout(o, 2000);
    return st;
  };
  // A probe without retries: a server that answers but refuses the
  // credentials is a start-up error (with retries, the client would only
  // say that no server is available).
  {
    natsOptions* probe_options = nullptr;
    natsConnection* probe = nullptr;
    natsStatus ps = common(probe_options);
    if (ps == NATS_OK) ps = natsConnection_Connect(&probe, probe_options);
    if (probe != nullptr) natsConnection_Destroy(probe);
    natsOptions_Destroy(probe_options);
    if (ps == NATS_CONNECTION_AUTH_FAILED || ps == NATS_NOT_PERMITTED) {
      error = "NATS refused the credentials (--nats-creds, --nats-token-file or the --nats URL's): " + nats_error(ps);
      return nullptr;
    }
  }
  natsStatus s = common(p->nopts);
  for (char& c : p->options.token) *static_cast<volatile char*>(&c) = 0;
  p->options.token.clear();
  if (s == NATS_OK) s = natsOptions_SetMaxReconnect(p->nopts, -1);
  if (s == NATS_OK) s = natsOptions_SetReconnectWait(p->nopts, 250);
  if (s == NATS_OK) s = natsOptions_SetPingInterval(p->nopts, 2000);
  if (s == NATS_OK) s = natsOptions_SetMaxPingsOut(p->nopts, 3);
  // Almost no buffering while reconnecting: a publish during an outage fails
  // at once (503) instead of leaving after its answer was given.
  if (s == NATS_OK) s = natsOptions_SetReconnectBufSize(p->nopts, 1);
  if (s == NATS_OK) s = natsOptions_SetDisconnectedCB(p->nopts, &impl::on_disconnected, p.get());
  if (s == NATS_OK) s = natsOptions_SetReconnectedCB(p->nopts, &impl::on_reconnected, p.get());
  if (s == NATS_OK) s = natsOptions_SetClosedCB(p->nopts, &impl::on_closed, p.get());
  if (s == NATS_OK) s = natsOptions_SetRetryOnFailedConnect(p->nopts, true, &impl::on_connected, p.get());
  if (s != NATS_OK) {
    error = "NATS options: " + nats_error(s);
    natsOptions_Destroy(p->nopts);
    return nullptr;
  }
  s = natsConnection_Connect(&p->nc, p->nopts);
  if (s == NATS_OK) {
    p->connected = true;
  } else if (s != NATS_NOT_YET_CONNECTED) {
    error = "NATS connect: " + nats_error(s);
    natsOptions_Destroy(p->nopts);
    return nullptr;
  } else {
    p->log("jetstream: no NATS server answers yet; retrying in the background");
  }
  jsOptions jo;
  jsOptions_Init(&jo);
  jo.Wait = options.ack_timeout.count();
  jo.PublishAsync.AckHandler = &impl::on_ack;
  jo.PublishAsync.AckHandlerClosure = p.get();
  s = natsConnection_JetStream(&p->js, p->nc, &jo);
  if (s != NATS_OK) {
    error = "JetStream context: " + nats_error(s);
    natsConnection_Destroy(p->nc);
    natsOptions_Destroy(p->nopts);
    return nullptr;
  }
  auto store = std::unique_ptr<jetstream_store>(new jetstream_store(std::move(p)));
  impl& self = *store->impl_;
  if (options.replicas == 1 || options.memory_storage)
    self.log(std::string("jetstream: NOT DURABLE: ") +
             (options.memory_storage ? "memory storage (a 200 does not survive a server restart)"
                                     : "one replica (a 200 does not survive the loss of the server's disk)") +
             ", as asked");
  if (self.connected) {
    bool fatal = false;
    if (!self.set_up_all(error, fatal)) {
      if (fatal) return nullptr;  // ~jetstream_store closes
      self.log("jetstream: " + error + " (retrying)");
      error.clear();
    }
  }
  self.monitor = std::thread([&self] { self.monitor_loop(); });
  for (unsigned i = 0; i < self.options.workers; ++i) self.workers.emplace_back([&self] { self.worker_loop(); });
  return store;
}

void jetstream_store::append(record r, std::function<void(stored)> done) {
  impl& self = *impl_;
  {
    // stopping is set under queue_mu, and the workers leave only once it is
    // set and the queue is empty: a job pushed here is always handled.
    std::unique_lock lock(self.queue_mu);
    if (!self.stopping) {
      impl::job j{std::move(r), std::move(done), false};
      j.rejected = self.in_flight.fetch_add(1, std::memory_order_relaxed) >= self.options.max_in_flight;
      self.queue.push_back(std::move(j));
      lock.unlock();
      self.queue_cv.notify_one();
      return;
    }
  }
  // Stopped: no worker is left. Answer from a thread of its own (never from
  // inside append).
  ++self.rejected;
  std::thread([done = std::move(done)] { done(stored::unavailable); }).detach();
}

bool jetstream_store::durable() const {
  const int r = impl_->replicas.load();
  return !impl_->options.memory_storage && r != 1 && impl_->options.replicas != 1;
}

bool jetstream_store::ready() const {
  return impl_->connected && impl_->set_up && !impl_->unhealthy && !impl_->stopping;
}

void jetstream_store::warm(fw::receiver&, std::int64_t, std::int64_t) {}

void jetstream_store::write_metrics(std::string& out) const {
  const impl& s = *impl_;
  auto line = [&out](std::string_view name, std::string_view labels, auto value) {
    out += name;
    if (!labels.empty()) {
      out += '{';
      out += labels;
      out += '}';
    }
    out += ' ';
    out += std::to_string(value);
    out += '\n';
  };
  out += "# HELP fiskil_gateway_store_durable Whether a 200 survives the loss of one server with its disk (0: a "
         "one-replica or memory stream, asked for with --stream-replicas 1 or --stream-storage memory).\n";
  out += "# TYPE fiskil_gateway_store_durable gauge\n";
  line("fiskil_gateway_store_durable", "", durable() ? 1 : 0);
  out += "# HELP fiskil_gateway_jetstream_connected Whether the NATS connection is up.\n";
  out += "# TYPE fiskil_gateway_jetstream_connected gauge\n";
  line("fiskil_gateway_jetstream_connected", "", s.connected ? 1 : 0);
  out += "# HELP fiskil_gateway_jetstream_ready Whether deliveries can be kept (connected, stream and bucket set up, "
         "last call answered).\n";
  out += "# TYPE fiskil_gateway_jetstream_ready gauge\n";
  line("fiskil_gateway_jetstream_ready", "", ready() ? 1 : 0);
  out += "# HELP fiskil_gateway_jetstream_disconnects_total Times the NATS connection was lost.\n";
  out += "# TYPE fiskil_gateway_jetstream_disconnects_total counter\n";
  line("fiskil_gateway_jetstream_disconnects_total", "", s.disconnects.load());
  out += "# HELP fiskil_gateway_jetstream_reconnects_total Times the NATS connection came back.\n";
  out += "# TYPE fiskil_gateway_jetstream_reconnects_total counter\n";
  line("fiskil_gateway_jetstream_reconnects_total", "", s.reconnects.load());
  out += "# HELP fiskil_gateway_jetstream_in_flight Appends queued or awaiting their acknowledgement.\n";
  out += "# TYPE fiskil_gateway_jetstream_in_flight gauge\n";
  line("fiskil_gateway_jetstream_in_flight", "", s.in_flight.load());
  out += "# HELP fiskil_gateway_jetstream_publishes_total Publishes by result.\n";
  out += "# TYPE fiskil_gateway_jetstream_publishes_total counter\n";
  line("fiskil_gateway_jetstream_publishes_total", "result=\"kept\"", s.pub_kept.load());
  line("fiskil_gateway_jetstream_publishes_total", "result=\"duplicate\"", s.pub_duplicate.load());
  line("fiskil_gateway_jetstream_publishes_total", "result=\"timeout\"", s.pub_timeout.load());
  line("fiskil_gateway_jetstream_publishes_total", "result=\"failed\"", s.pub_failed.load());
  line("fiskil_gateway_jetstream_publishes_total", "result=\"rejected_in_flight_limit\"", s.rejected.load());
  out += "# HELP fiskil_gateway_jetstream_consent_total Consent compare-and-set steps by verdict.\n";
  out += "# TYPE fiskil_gateway_jetstream_consent_total counter\n";
  line("fiskil_gateway_jetstream_consent_total", "verdict=\"newer\"", s.c_newer.load());
  line("fiskil_gateway_jetstream_consent_total", "verdict=\"retry_of_winner\"", s.c_mine.load());
  line("fiskil_gateway_jetstream_consent_total", "verdict=\"duplicate\"", s.c_duplicate.load());
  line("fiskil_gateway_jetstream_consent_total", "verdict=\"superseded\"", s.c_stale.load());
  line("fiskil_gateway_jetstream_consent_total", "verdict=\"after_revocation\"", s.c_revoked.load());
  line("fiskil_gateway_jetstream_consent_total", "verdict=\"cas_failed\"", s.c_cas_failed.load());
  line("fiskil_gateway_jetstream_consent_total", "verdict=\"read_failed\"", s.c_read_failed.load());
  line("fiskil_gateway_jetstream_consent_total", "verdict=\"pending_busy\"", s.c_pending_busy.load());
  line("fiskil_gateway_jetstream_consent_total", "verdict=\"resolved_present\"", s.c_resolved_present.load());
  line("fiskil_gateway_jetstream_consent_total", "verdict=\"resolved_absent\"", s.c_resolved_absent.load());
  line("fiskil_gateway_jetstream_consent_total", "verdict=\"pending_cleared\"", s.c_cleared.load());
  line("fiskil_gateway_jetstream_consent_total", "verdict=\"confirm_failed\"", s.c_confirm_failed.load());
  out += "# HELP fiskil_gateway_jetstream_ack_duration_seconds Publish to acknowledgement.\n";
  out += "# TYPE fiskil_gateway_jetstream_ack_duration_seconds histogram\n";
  std::lock_guard lock(s.hist_mu);
  char le[32];
  for (std::size_t i = 0; i < ack_buckets.size(); ++i) {
    std::snprintf(le, sizeof le, "le=\"%g\"", ack_buckets[i]);
    line("fiskil_gateway_jetstream_ack_duration_seconds_bucket", le, s.hist[i]);
  }
  line("fiskil_gateway_jetstream_ack_duration_seconds_bucket", "le=\"+Inf\"", s.hist_count);
  out += "fiskil_gateway_jetstream_ack_duration_seconds_sum " + std::to_string(s.hist_sum) + "\n";
  line("fiskil_gateway_jetstream_ack_duration_seconds_count", "", s.hist_count);
}

void jetstream_store::stop() {
  impl& self = *impl_;
  {
    std::lock_guard lock(self.stop_mu);
    if (self.stopped) return;
    self.stopped = true;
  }
  // Workers finish the queued appends (each answers within ack_timeout).
  {
    std::lock_guard lock(self.queue_mu);
    self.stopping = true;
  }
  self.queue_cv.notify_all();
  for (std::thread& t : self.workers) t.join();
  self.monitor_cv.notify_all();
  if (self.monitor.joinable()) self.monitor.join();
  // Wait for the acknowledgements still due, then answer the rest unavailable.
  if (self.js != nullptr && self.published_any) {
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MaxWait = self.options.ack_timeout.count() + 500;
    js_PublishAsyncComplete(self.js, &po);
    natsMsgList pending{};
    if (js_PublishAsyncGetPendingList(&pending, self.js) == NATS_OK) {
      for (int i = 0; i < pending.Count; ++i) {
        std::optional<impl::awaiting> found;
        {
          std::lock_guard lock(self.await_mu);
          const auto it = self.awaiting_ack.find(pending.Msgs[i]);
          if (it != self.awaiting_ack.end()) {
            found.emplace(std::move(it->second));
            self.awaiting_ack.erase(it);
          }
        }
        if (found) self.finish(found->done, stored::unavailable);
      }
      natsMsgList_Destroy(&pending);
    }
  }
  if (self.nc != nullptr) {
    natsConnection_Close(self.nc);
    std::unique_lock lock(self.closed_mu);
    self.closed_cv.wait_for(lock, std::chrono::seconds(2), [&] { return self.closed; });
  }
  while (self.callbacks_running.load() != 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  {
    // Anything still awaiting (none expected) is answered too: done exactly once.
    std::unordered_map<natsMsg*, impl::awaiting> rest;
    {
      std::lock_guard lock(self.await_mu);
      rest.swap(self.awaiting_ack);
    }
    for (auto& [msg, a] : rest) self.finish(a.done, stored::unavailable);
  }
  if (self.kv != nullptr) kvStore_Destroy(self.kv);
  if (self.js != nullptr) jsCtx_Destroy(self.js);
  if (self.nc != nullptr) natsConnection_Destroy(self.nc);
  if (self.nopts != nullptr) natsOptions_Destroy(self.nopts);
  self.kv = nullptr;
  self.js = nullptr;
  self.nc = nullptr;
  self.nopts = nullptr;
}

std::string jetstream_store::subject_for(std::string_view event_name) const { return impl_->subject_for(event_name); }

std::string jetstream_store::consent_key(std::string_view consent_id) {
  const bool plain = !consent_id.empty() && std::all_of(consent_id.begin(), consent_id.end(), plain_token_char);
  return plain ? "c." + std::string(consent_id) : "x." + hex(consent_id);
}

std::string jetstream_store::msg_id(std::string_view message_id) {
  const bool plain = !message_id.empty() && !message_id.starts_with("hex:") &&
                     std::all_of(message_id.begin(), message_id.end(), [](char c) { return c > 0x20 && c < 0x7f; });
  return plain ? std::string(message_id) : "hex:" + hex(message_id);
}

}  // namespace fiskil::gateway
