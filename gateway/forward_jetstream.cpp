// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
#include "forward_jetstream.hpp"

#include <simdjson.h>

#include <algorithm>
#include <climits>
#include <cstdio>
#include <map>
#include <random>
#include <unordered_map>
#include <unordered_set>

#include "log.hpp"

namespace fiskil::gateway {

namespace {

std::string nats_text(natsStatus s) { return natsStatus_GetText(s); }

std::string hex_decode(std::string_view hex) {
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    const auto nibble = [](char c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; };
    out.push_back(static_cast<char>(nibble(hex[i]) * 16 + nibble(hex[i + 1])));
  }
  return out;
}

std::string header(natsMsg* m, const char* key) {
  const char* value = nullptr;
  return natsMsgHeader_Get(m, key, &value) == NATS_OK && value != nullptr ? std::string(value) : std::string();
}

std::int64_t to_int(const std::string& text) {
  long long v = 0;
  return std::sscanf(text.c_str(), "%lld", &v) == 1 ? static_cast<std::int64_t>(v) : 0;
}

// The keys of redriven deliveries sort before the stream's: they are older.
constexpr std::int64_t redrive_base = INT64_MIN / 2;

// take_over reads at most this many sequences of a previous holder's
// unacknowledged range (the window is 128 x --forward-concurrency).
constexpr std::uint64_t unacknowledged_read_limit = 16384;
// After AckWait, the server's redelivery timer may lag a little.
constexpr std::int64_t takeover_margin_ns = 2'000'000'000;
constexpr std::int64_t unacknowledged_check_ns = 250'000'000;

struct held {
  natsMsg* msg = nullptr;  // owned; acked or nakked before destroyed
  forward_job job;
  std::int64_t next_attempt_ns = 0;
};

class jetstream_source final : public forward_source {
 public:
  jetstream_source(forward_jetstream_options options, natsOptions* opts, natsConnection* nc, jsCtx* js)
      : options_(std::move(options)), names_(options_.stream, options_.url), opts_(opts), nc_(nc), js_(js),
        ack_wait_ns_(forward_jetstream_ack_wait(options_.timeout).count()),
        window_(forward_jetstream_window(options_.concurrency)) {
    char owner[17];
    std::snprintf(owner, sizeof owner, "%016llx", static_cast<unsigned long long>(std::random_device{}()) << 32 ^
                                                      std::random_device{}());
    owner_ = owner;
  }

  ~jetstream_source() override {
    // Held deliveries go back to the stream at once, and the lease is given
    // up, so that another replica (or a restart) carries on without waiting.
    for (auto& [key, h] : held_) {
      natsMsg_Nak(h.msg, nullptr);
      natsMsg_Destroy(h.msg);
    }
    if (kv_ && lease_until_ns_ > 0) {
      kvEntry* e = nullptr;
      if (kvStore_Get(&e, kv_, names_.lease_key.c_str()) == NATS_OK) {
        if (std::string(kvEntry_ValueString(e)).starts_with(owner_ + " "))
          (void)kvStore_UpdateString(nullptr, kv_, names_.lease_key.c_str(), (owner_ + " 0").c_str(),
                                     kvEntry_Revision(e));
        kvEntry_Destroy(e);
      }
    }
    if (sub_) natsSubscription_Destroy(sub_);
    if (redrive_sub_) natsSubscription_Destroy(redrive_sub_);
    if (kv_) kvStore_Destroy(kv_);
    jsCtx_Destroy(js_);
    natsConnection_Destroy(nc_);
    natsOptions_Destroy(opts_);
  }

  std::string_view commands() const override { return "jetstream"; }

  bool scan(std::int64_t now_ns, int limit, int& added, std::string& error) override {
    added = 0;
    if (!kv_ && !setup(error)) return false;
    if (now_ns >= next_lease_ns_) {
      const bool was = leader(now_ns);
      renew_lease(now_ns);
      next_lease_ns_ = now_ns + ack_wait_ns_ / 4;
      if (was && !leader(now_ns)) {
        log("warn", "forward_lease_lost", {{"url", options_.url}, {"detail", "another replica forwards now"}});
        release_all();
      } else if (!was && leader(now_ns)) {
        log("info", "forward_lease_taken", {{"url", options_.url}, {"consumer", names_.consumer}});
        take_over(now_ns);
      }
    }
    settle_unacknowledged(now_ns);
    if (now_ns >= next_progress_ns_) {
      for (auto& [key, h] : held_) (void)natsMsg_InProgress(h.msg, nullptr);
      next_progress_ns_ = now_ns + ack_wait_ns_ / 3;
    }
    if (!leader(now_ns)) return true;
    if (held_.size() >= window_) {
      if (!window_full_)
        log("warn", "forward_window_full",
            {{"held", std::to_string(held_.size())},
             {"detail", "128 x --forward-concurrency deliveries held; new ones wait in the stream"}});
      window_full_ = true;
      return true;
    }
    window_full_ = false;
    const int room = static_cast<int>(std::min<std::size_t>(window_ - held_.size(), static_cast<std::size_t>(limit)));
    if (!fetch(redrive_sub_, true, now_ns, room, added, error)) return false;
    return fetch(sub_, false, now_ns, room - added, added, error);
  }

  bool candidates(std::int64_t now_ns, int limit, std::vector<forward_candidate>& out, std::int64_t& earliest_ns,
                  std::string&) override {
    out.clear();
    earliest_ns = INT64_MAX;
    // An attempt started now ends within --forward-timeout, before the lease
    // could pass to another replica.
    if (now_ns + options_.timeout.count() >= lease_until_ns_) return true;
    std::unordered_set<std::string> seen;
    // The first unacknowledged delivery of each consent a previous lease
    // holder had: a later one of that consent waits for it.
    std::unordered_map<std::string_view, std::int64_t> first_unacknowledged;
    for (const auto& [seq, order_key] : unacknowledged_) first_unacknowledged.try_emplace(order_key, seq);
    for (const auto& [key, h] : held_) {
      if (static_cast<int>(out.size()) >= limit) break;
      if (h.job.order_key && !seen.insert(*h.job.order_key).second) continue;
      if (h.job.order_key && key > 0) {
        const auto before = first_unacknowledged.find(*h.job.order_key);
        if (unacknowledged_unread_ || (before != first_unacknowledged.end() && before->second < key)) continue;
      }
      if (h.next_attempt_ns > now_ns) {
        earliest_ns = std::min(earliest_ns, h.next_attempt_ns);
        continue;
      }
      forward_candidate c;
      c.seq = key;
      c.order_key = h.job.order_key;
      c.next_attempt_ns = h.next_attempt_ns;
      out.push_back(std::move(c));
    }
    return true;
  }

  bool load(std::int64_t seq, forward_job& out, std::string& error) override {
    error.clear();
    const auto it = held_.find(seq);
    if (it == held_.end()) return false;
    out = it->second.job;
    return true;
  }

  bool record(std::span<const forward_outcome> outcomes, std::string& error) override {
    for (const forward_outcome& o : outcomes) {
      const auto it = held_.find(o.seq);
      if (it == held_.end()) continue;  // given back (lease lost): redelivered
      held& h = it->second;
      if (o.pause && !set_paused(true, error)) return false;
      if (o.state == "delivered") {
        (void)natsMsg_Ack(h.msg, nullptr);  // a lost ack repeats the delivery, same webhook-id
        ++delivered_;
      } else if (o.state == "dead") {
        if (!store_dead_letter(h, o, error)) return false;
        jsErrCode jerr = static_cast<jsErrCode>(0);
        (void)natsMsg_AckSync(h.msg, nullptr, &jerr);
      } else {
        h.job.attempts = o.attempts;
        h.next_attempt_ns = o.next_attempt_ns;
        continue;
      }
      natsMsg_Destroy(h.msg);
      held_.erase(it);
    }
    return true;
  }

  bool tidy(int& removed, std::string&) override {
    removed = 0;
    return true;
  }

  bool paused(bool& out, std::string& error) override {
    if (!kv_ && !setup(error)) return false;
    const std::int64_t now = steady_ns();
    if (now < next_paused_read_ns_) {
      out = paused_;
      return true;
    }
    kvEntry* e = nullptr;
    const natsStatus s = kvStore_Get(&e, kv_, names_.paused_key.c_str());
    if (s == NATS_NOT_FOUND) {
      paused_ = false;
    } else if (s != NATS_OK) {
      error = "read " + names_.paused_key + ": " + nats_text(s);
      return false;
    } else {
      paused_ = std::string_view(kvEntry_ValueString(e)) == "1";
      kvEntry_Destroy(e);
    }
    next_paused_read_ns_ = now + 1'000'000'000;
    out = paused_;
    return true;
  }

  bool set_paused(bool paused, std::string& error) override {
    if (!kv_ && !setup(error)) return false;
    const natsStatus s = kvStore_PutString(nullptr, kv_, names_.paused_key.c_str(), paused ? "1" : "0");
    if (s != NATS_OK) {
      error = "write " + names_.paused_key + ": " + nats_text(s);
      return false;
    }
    paused_ = paused;
    return true;
  }

  bool gauges(std::int64_t now_ns, forward_gauges& out, std::string& error) override {
    if (!kv_ && !setup(error)) return false;
    out = forward_gauges{};
    for (const auto& [stream, consumer] : {std::pair{options_.stream, names_.consumer},
                                           std::pair{names_.dead_stream, names_.redrive_consumer}}) {
      jsConsumerInfo* ci = nullptr;
      const natsStatus s = js_GetConsumerInfo(&ci, js_, stream.c_str(), consumer.c_str(), nullptr, nullptr);
      if (s != NATS_OK) {
        error = "consumer info " + consumer + ": " + nats_text(s);
        return false;
      }
      out.backlog += static_cast<std::int64_t>(ci->NumPending) + ci->NumAckPending;
      jsConsumerInfo_Destroy(ci);
    }
    std::int64_t oldest = INT64_MAX;
    for (const auto& [key, h] : held_) oldest = std::min(oldest, h.job.received_time_ns);
    out.oldest_pending_seconds = oldest == INT64_MAX ? 0 : std::max<double>(0, (now_ns - oldest) / 1e9);
    if (!count_dead(js_, names_, out.dead, error)) return false;
    out.delivered = delivered_;
    out.paused = paused_;
    return true;
  }

  // count_dead is the number of dead letters of a destination.
  static bool count_dead(jsCtx* js, const forward_jetstream_names& names, std::int64_t& out, std::string& error) {
    jsOptions o;
    jsOptions_Init(&o);
    o.Stream.Info.SubjectsFilter = names.dead_subject.c_str();
    jsStreamInfo* si = nullptr;
    const natsStatus s = js_GetStreamInfo(&si, js, names.dead_stream.c_str(), &o, nullptr);
    if (s != NATS_OK) {
      error = "stream info " + names.dead_stream + ": " + nats_text(s);
      return false;
    }
    out = 0;
    if (si->State.Subjects != nullptr)
      for (int i = 0; i < si->State.Subjects->Count; ++i) out += static_cast<std::int64_t>(si->State.Subjects->List[i].Msgs);
    jsStreamInfo_Destroy(si);
    return true;
  }

 private:
  static std::int64_t steady_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }

  bool leader(std::int64_t now_ns) const { return now_ns < lease_until_ns_; }

  // setup makes the bucket, the dead-letter stream and the two consumers
  // when missing, and binds to the consumers.
  bool setup(std::string& error) {
    jsStreamInfo* si = nullptr;
    jsErrCode jerr = static_cast<jsErrCode>(0);
    natsStatus s = js_GetStreamInfo(&si, js_, options_.stream.c_str(), nullptr, &jerr);
    if (s != NATS_OK) {
      error = "stream " + options_.stream + ": " + nats_text(s);
      return false;
    }
    const int replicas = std::max(1, static_cast<int>(si->Config->Replicas));
    const jsStorageType storage = si->Config->Storage;
    const std::string stream_subject = si->Config->SubjectsLen > 0 ? si->Config->Subjects[0] : "";
    jsStreamInfo_Destroy(si);

    si = nullptr;
    s = js_GetStreamInfo(&si, js_, names_.dead_stream.c_str(), nullptr, &jerr);
    if (s == NATS_NOT_FOUND) {
      jsStreamConfig cfg;
      jsStreamConfig_Init(&cfg);
      const std::string subjects = names_.dead_stream + ".>";
      const char* list[] = {subjects.c_str()};
      cfg.Name = names_.dead_stream.c_str();
      cfg.Subjects = list;
      cfg.SubjectsLen = 1;
      cfg.Storage = storage;
      cfg.Replicas = replicas;
      s = js_AddStream(&si, js_, &cfg, nullptr, &jerr);
      if (s != NATS_OK && jerr != JSStreamNameExistErr) {
        error = "create stream " + names_.dead_stream + ": " + nats_text(s);
        return false;
      }
    } else if (s != NATS_OK) {
      error = "stream " + names_.dead_stream + ": " + nats_text(s);
      return false;
    }
    if (si) jsStreamInfo_Destroy(si);

    kvStore* kv = nullptr;
    s = js_KeyValue(&kv, js_, names_.bucket.c_str());
    if (s == NATS_NOT_FOUND) {
      kvConfig kc;
      kvConfig_Init(&kc);
      kc.Bucket = names_.bucket.c_str();
      kc.History = 1;
      kc.StorageType = storage;
      kc.Replicas = replicas;
      s = js_CreateKeyValue(&kv, js_, &kc);
    }
    if (s != NATS_OK) {
      error = "key-value bucket " + names_.bucket + ": " + nats_text(s);
      return false;
    }
    natsSubscription* sub = nullptr;
    natsSubscription* redrive = nullptr;
    if (!bind(options_.stream, names_.consumer, stream_subject, sub, error) ||
        !bind(names_.dead_stream, names_.redrive_consumer, names_.redrive_subject, redrive, error)) {
      if (sub) natsSubscription_Destroy(sub);
      kvStore_Destroy(kv);
      return false;
    }
    kv_ = kv;
    sub_ = sub;
    redrive_sub_ = redrive;
    log("info", "forward_jetstream",
        {{"consumer", names_.consumer}, {"dead_letters", names_.dead_subject}, {"bucket", names_.bucket},
         {"ack_wait_ms", std::to_string(ack_wait_ns_ / 1'000'000)}, {"window", std::to_string(window_)}});
    return true;
  }

  // bind makes (or updates) the durable pull consumer and subscribes to it.
  bool bind(const std::string& stream, const std::string& durable, const std::string& filter, natsSubscription*& sub,
            std::string& error) {
    jsConsumerConfig cc;
    jsConsumerConfig_Init(&cc);
    cc.Durable = durable.c_str();
    cc.AckPolicy = js_AckExplicit;
    cc.DeliverPolicy = js_DeliverAll;
    cc.AckWait = ack_wait_ns_;
    cc.MaxAckPending = static_cast<int64_t>(window_);
    cc.MaxDeliver = -1;
    cc.FilterSubject = filter.c_str();
    jsConsumerInfo* ci = nullptr;
    jsErrCode jerr = static_cast<jsErrCode>(0);
    natsStatus s = js_AddConsumer(&ci, js_, stream.c_str(), &cc, nullptr, &jerr);
    if (s != NATS_OK) s = js_UpdateConsumer(&ci, js_, stream.c_str(), &cc, nullptr, &jerr);
    if (s != NATS_OK) {
      error = "consumer " + durable + " on " + stream + ": " + nats_text(s) + " (" + std::to_string(jerr) + ")";
      return false;
    }
    jsConsumerInfo_Destroy(ci);
    jsSubOptions so;
    jsSubOptions_Init(&so);
    so.Stream = stream.c_str();
    so.Consumer = durable.c_str();
    s = js_PullSubscribe(&sub, js_, filter.c_str(), durable.c_str(), nullptr, &so, &jerr);
    if (s != NATS_OK) {
      error = "subscribe to " + durable + ": " + nats_text(s);
      return false;
    }
    return true;
  }

  // renew_lease takes or extends the destination's lease: free, expired or
  // already ours, by compare-and-set on its revision.
  void renew_lease(std::int64_t now_ns) {
    kvEntry* e = nullptr;
    const std::int64_t until = now_ns + ack_wait_ns_;
    const std::string value = owner_ + " " + std::to_string(until);
    natsStatus s = kvStore_Get(&e, kv_, names_.lease_key.c_str());
    if (s == NATS_NOT_FOUND) {
      s = kvStore_CreateString(nullptr, kv_, names_.lease_key.c_str(), value.c_str());
    } else if (s == NATS_OK) {
      const std::string current = kvEntry_ValueString(e);
      const std::size_t space = current.find(' ');
      const bool ours = current.substr(0, space) == owner_;
      const std::int64_t expiry = space == std::string::npos ? 0 : to_int(current.substr(space + 1));
      s = ours || expiry <= now_ns ? kvStore_UpdateString(nullptr, kv_, names_.lease_key.c_str(), value.c_str(),
                                                          kvEntry_Revision(e))
                                   : NATS_ERR;
      kvEntry_Destroy(e);
    }
    if (s == NATS_OK) lease_until_ns_ = until;
    // Otherwise the lease held so far runs out at lease_until_ns_.
  }

  // take_over runs when this replica takes the lease. Deliveries a previous
  // holder took and did not acknowledge come back to this one only when their
  // AckWait runs out (at once if it gave them back on its way out), while new
  // ones can be fetched now: a later delivery of the same consent must not
  // overtake them. The consumer's unacknowledged range, from its ack floor to
  // the last delivered, is read from the stream, and each delivery with an
  // order key in it holds back the later ones of its consent until it is
  // fetched again, the ack floor passes it, or AckWait (and a margin) has
  // passed since the take-over: by then anything still unacknowledged has
  // been redelivered, first, ahead of new deliveries. A range too long to
  // read holds back every delivery that has an order key, as long.
  void take_over(std::int64_t now_ns) {
    unacknowledged_.clear();
    unacknowledged_unread_ = false;
    jsConsumerInfo* ci = nullptr;
    natsStatus s = js_GetConsumerInfo(&ci, js_, options_.stream.c_str(), names_.consumer.c_str(), nullptr, nullptr);
    unacknowledged_until_ns_ = now_ns + ack_wait_ns_ + takeover_margin_ns;
    next_unacknowledged_check_ns_ = now_ns + unacknowledged_check_ns;
    if (s != NATS_OK) {
      unacknowledged_unread_ = true;
      takeover_delivered_ = UINT64_MAX;
      log("warn", "forward_takeover", {{"detail", "consumer info: " + nats_text(s) +
                                                      "; deliveries with a consent wait for AckWait"}});
      return;
    }
    const std::uint64_t floor = ci->AckFloor.Stream, last = ci->Delivered.Stream;
    const std::int64_t pending = ci->NumAckPending;
    jsConsumerInfo_Destroy(ci);
    takeover_delivered_ = last;
    if (pending == 0 || last <= floor) {
      unacknowledged_until_ns_ = 0;
      return;
    }
    if (last - floor > unacknowledged_read_limit) {
      unacknowledged_unread_ = true;
    } else {
      for (std::uint64_t seq = floor + 1; seq <= last; ++seq) {
        natsMsg* m = nullptr;
        s = js_GetMsg(&m, js_, options_.stream.c_str(), seq, nullptr, nullptr);
        if (s == NATS_NOT_FOUND) continue;  // removed from the stream: nothing to wait for
        if (s != NATS_OK) {
          unacknowledged_unread_ = true;
          break;
        }
        std::string event;
        std::optional<std::string> order_key;
        const std::string body(natsMsg_GetData(m), static_cast<std::size_t>(natsMsg_GetDataLength(m)));
        forward_jetstream_envelope(body, event, order_key);
        natsMsg_Destroy(m);
        if (order_key) unacknowledged_.emplace(static_cast<std::int64_t>(seq), std::move(*order_key));
      }
    }
    log("info", "forward_takeover",
        {{"unacknowledged", std::to_string(pending)},
         {"range", std::to_string(floor + 1) + ".." + std::to_string(last)},
         {"held_back_consents", unacknowledged_unread_ ? "all" : std::to_string(unacknowledged_.size())},
         {"at_most_ms", std::to_string((ack_wait_ns_ + takeover_margin_ns) / 1'000'000)}});
  }

  // settle_unacknowledged forgets what take_over holds back once it is
  // acknowledged (the ack floor passed it) or AckWait has run out.
  void settle_unacknowledged(std::int64_t now_ns) {
    if (unacknowledged_.empty() && !unacknowledged_unread_) return;
    if (now_ns >= unacknowledged_until_ns_) {
      unacknowledged_.clear();
      unacknowledged_unread_ = false;
      return;
    }
    if (now_ns < next_unacknowledged_check_ns_) return;
    next_unacknowledged_check_ns_ = now_ns + unacknowledged_check_ns;
    jsConsumerInfo* ci = nullptr;
    if (js_GetConsumerInfo(&ci, js_, options_.stream.c_str(), names_.consumer.c_str(), nullptr, nullptr) != NATS_OK)
      return;
    const std::uint64_t floor = ci->AckFloor.Stream;
    jsConsumerInfo_Destroy(ci);
    if (floor >= takeover_delivered_) {
      unacknowledged_.clear();
      unacknowledged_unread_ = false;
      return;
    }
    unacknowledged_.erase(unacknowledged_.begin(), unacknowledged_.upper_bound(static_cast<std::int64_t>(floor)));
  }

  // release_all gives every held delivery back to the stream.
  void release_all() {
    for (auto& [key, h] : held_) {
      natsMsg_Nak(h.msg, nullptr);
      natsMsg_Destroy(h.msg);
    }
    held_.clear();
  }

  bool fetch(natsSubscription* sub, bool redriven, std::int64_t now_ns, int room, int& added, std::string& error) {
    if (room <= 0) return true;
    jsFetchRequest req;
    jsFetchRequest_Init(&req);
    req.Batch = room;
    req.NoWait = true;
    req.Expires = 50'000'000;
    natsMsgList list{};
    const natsStatus s = natsSubscription_FetchRequest(&list, sub, &req);
    if (s == NATS_TIMEOUT || s == NATS_NOT_FOUND) return true;
    if (s != NATS_OK) {
      error = "fetch: " + nats_text(s);
      return false;
    }
    for (int i = 0; i < list.Count; ++i) {
      natsMsg* m = list.Msgs[i];
      list.Msgs[i] = nullptr;
      take(m, redriven, now_ns, added);
    }
    natsMsgList_Destroy(&list);
    return true;
  }

  void take(natsMsg* m, bool redriven, std::int64_t now_ns, int& added) {
    jsMsgMetaData* meta = nullptr;
    if (natsMsg_GetMetaData(&meta, m) != NATS_OK) {
      natsMsg_Destroy(m);
      return;
    }
    const auto seq = static_cast<std::int64_t>(meta->Sequence.Stream);
    jsMsgMetaData_Destroy(meta);
    const std::int64_t key = redriven ? redrive_base + seq : seq;
    if (!redriven) unacknowledged_.erase(key);  // back from a previous holder
    if (held_.count(key) != 0) {  // redelivered while held: keep the first
      natsMsg_Destroy(m);
      return;
    }
    held h;
    h.msg = m;
    h.job.seq = key;
    h.job.body.assign(natsMsg_GetData(m), static_cast<std::size_t>(natsMsg_GetDataLength(m)));
    const std::string id = redriven ? header(m, "Fiskil-Message-Id") : header(m, "Nats-Msg-Id");
    h.job.message_id = id.starts_with("hex:") ? hex_decode(std::string_view(id).substr(4)) : id;
    forward_jetstream_envelope(h.job.body, h.job.event, h.job.order_key);
    if (h.job.event.empty()) h.job.event = header(m, "Fiskil-Event");
    h.job.received_time_ns = to_int(header(m, "Fiskil-Received-Time"));
    h.job.series_start_ns = redriven ? to_int(header(m, "Fiskil-Series-Start")) : h.job.received_time_ns;
    if (h.job.series_start_ns == 0) h.job.series_start_ns = now_ns;
    h.next_attempt_ns = now_ns;
    held_.emplace(key, std::move(h));
    ++added;
  }

  bool store_dead_letter(const held& h, const forward_outcome& o, std::string& error) {
    natsMsg* m = nullptr;
    natsStatus s = natsMsg_Create(&m, names_.dead_subject.c_str(), nullptr, h.job.body.data(),
                                  static_cast<int>(h.job.body.size()));
    const std::string id = jetstream_header_id(h.job.message_id);
    const auto set = [&](const char* k, const std::string& v) {
      if (s == NATS_OK) s = natsMsgHeader_Set(m, k, v.c_str());
    };
    set("Fiskil-Message-Id", id);
    set("Fiskil-Event", h.job.event);
    set("Fiskil-Received-Time", std::to_string(h.job.received_time_ns));
    set("Fiskil-Attempts", std::to_string(o.attempts));
    set("Fiskil-Last-Status", std::to_string(o.last_status));
    set("Fiskil-Last-Error", o.last_error.empty() ? "-" : o.last_error);
    set("Fiskil-Destination", options_.url);
    if (s == NATS_OK) {
      jsErrCode jerr = static_cast<jsErrCode>(0);
      jsPubAck* pa = nullptr;
      s = js_PublishMsg(&pa, js_, m, nullptr, &jerr);
      if (pa) jsPubAck_Destroy(pa);
    }
    natsMsg_Destroy(m);
    if (s != NATS_OK) {
      error = "store dead letter in " + names_.dead_stream + ": " + nats_text(s);
      return false;
    }
    return true;
  }

  // jetstream_header_id is a message_id as a header value (hex: when it has
  // bytes a header cannot hold), as the store's Nats-Msg-Id.
  static std::string jetstream_header_id(const std::string& id) {
    const bool plain = !id.empty() && !id.starts_with("hex:") &&
                       std::all_of(id.begin(), id.end(), [](char c) { return c > ' ' && c < 127; });
    if (plain) return id;
    std::string out = "hex:";
    char two[3];
    for (unsigned char c : id) {
      std::snprintf(two, sizeof two, "%02x", c);
      out += two;
    }
    return out;
  }

  forward_jetstream_options options_;
  forward_jetstream_names names_;
  natsOptions* opts_;
  natsConnection* nc_;
  jsCtx* js_;
  kvStore* kv_ = nullptr;
  natsSubscription* sub_ = nullptr;
  natsSubscription* redrive_sub_ = nullptr;
  std::int64_t ack_wait_ns_;
  std::size_t window_;
  std::string owner_;
  std::int64_t lease_until_ns_ = 0, next_lease_ns_ = 0, next_progress_ns_ = 0, next_paused_read_ns_ = 0;
  bool paused_ = false, window_full_ = false;
  std::int64_t delivered_ = 0;
  std::map<std::int64_t, held> held_;  // by key: stream order, redriven first
  // take_over's: stream sequence -> order key of a previous holder's
  // unacknowledged delivery; whether the range was too long to read.
  std::map<std::int64_t, std::string> unacknowledged_;
  bool unacknowledged_unread_ = false;
  std::uint64_t takeover_delivered_ = 0;
  std::int64_t unacknowledged_until_ns_ = 0, next_unacknowledged_check_ns_ = 0;
};

}  // namespace

forward_jetstream_names::forward_jetstream_names(std::string_view stream, std::string_view url) {
  std::uint64_t h = 14695981039346656037ULL;
  for (unsigned char c : url) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
  id = hex;
  consumer = "forward_" + id;
  redrive_consumer = consumer + "_redrive";
  bucket = std::string(stream) + "_FORWARD";
  dead_stream = std::string(stream) + "_DEAD";
  dead_subject = dead_stream + "." + id + ".dead";
  redrive_subject = dead_stream + "." + id + ".redrive";
  lease_key = "lease." + id;
  paused_key = "paused." + id;
}

void forward_jetstream_envelope(const std::string& body, std::string& event, std::optional<std::string>& order_key) {
  simdjson::ondemand::parser parser;
  simdjson::padded_string padded(body);
  simdjson::ondemand::document doc;
  if (parser.iterate(padded).get(doc) != simdjson::SUCCESS) return;
  simdjson::ondemand::object data;
  if (doc["data"].get_object().get(data) != simdjson::SUCCESS) return;
  std::string consent, arrangement;
  for (auto field : data) {
    std::string_view key;
    if (field.unescaped_key().get(key) != simdjson::SUCCESS) return;
    std::string_view value;
    if (field.value().get_string().get(value) != simdjson::SUCCESS) continue;
    if (key == "event") event = value;
    if (key == "consent_id") consent = value;
    if (key == "arrangementId") arrangement = value;
  }
  if (!consent.empty()) order_key = consent;
  else if (!arrangement.empty()) order_key = arrangement;
}

std::size_t forward_jetstream_window(std::size_t concurrency) { return std::max<std::size_t>(128 * concurrency, 128); }

std::chrono::nanoseconds forward_jetstream_ack_wait(std::chrono::nanoseconds timeout) {
  return timeout + std::chrono::seconds{5};
}

bool forward_jetstream_connect(const std::string& servers, bool retry, natsOptions*& opts, natsConnection*& nc,
                               jsCtx*& js, std::string& error) {
  std::vector<std::string> urls;
  std::size_t start = 0;
  while (start <= servers.size()) {
    const std::size_t comma = std::min(servers.find(',', start), servers.size());
    if (comma > start) urls.push_back(servers.substr(start, comma - start));
    start = comma + 1;
  }
  std::vector<const char*> list;
  for (const std::string& u : urls) list.push_back(u.c_str());
  opts = nullptr;
  nc = nullptr;
  js = nullptr;
  natsStatus s = natsOptions_Create(&opts);
  if (s == NATS_OK) s = natsOptions_SetServers(opts, list.data(), static_cast<int>(list.size()));
  if (s == NATS_OK) s = natsOptions_SetName(opts, "fiskil-gateway-forward");
  if (s == NATS_OK) s = natsOptions_SetMaxReconnect(opts, -1);
  if (s == NATS_OK) s = natsOptions_SetReconnectWait(opts, 250);
  if (s == NATS_OK) s = natsOptions_SetTimeout(opts, 2000);
  if (s == NATS_OK && retry) s = natsOptions_SetRetryOnFailedConnect(opts, true, nullptr, nullptr);
  if (s == NATS_OK) s = natsConnection_Connect(&nc, opts);
  if (s == NATS_NOT_YET_CONNECTED && retry) s = NATS_OK;
  jsOptions jo;
  jsOptions_Init(&jo);
  jo.Wait = 5000;
  if (s == NATS_OK) s = natsConnection_JetStream(&js, nc, &jo);
  if (s != NATS_OK) {
    error = "NATS " + servers + ": " + nats_text(s);
    if (nc) natsConnection_Destroy(nc);
    if (opts) natsOptions_Destroy(opts);
    nc = nullptr;
    opts = nullptr;
    return false;
  }
  return true;
}

std::unique_ptr<forward_source> make_forward_jetstream(const forward_jetstream_options& options, std::string& error) {
  natsOptions* opts = nullptr;
  natsConnection* nc = nullptr;
  jsCtx* js = nullptr;
  if (!forward_jetstream_connect(options.servers, true, opts, nc, js, error)) return nullptr;
  return std::make_unique<jetstream_source>(options, opts, nc, js);
}

}  // namespace fiskil::gateway
