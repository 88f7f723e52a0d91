// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
#include "jetstream_replay.hpp"

#include <cstdio>
#include <string_view>
#include <vector>

#include "jetstream_scan.hpp"
#include "jetstream_store.hpp"

namespace fiskil::gateway {

namespace {

constexpr std::int64_t clock_margin_ns = 60'000'000'000;

std::string text(natsStatus s) { return natsStatus_GetText(s); }

std::int64_t to_int(const std::string& value) {
  long long v = 0;
  return std::sscanf(value.c_str(), "%lld", &v) == 1 ? static_cast<std::int64_t>(v) : 0;
}

// replay_one publishes a copy of the kept delivery m (its body and
// headers, as forward_jetstream's take(..., redriven) reads them).
bool replay_one(jsCtx* js, const forward_jetstream_names& names, std::uint64_t seq, natsMsg* kept,
                std::int64_t now_ns, std::string& error) {
  natsMsg* m = nullptr;
  natsStatus s = natsMsg_Create(&m, names.redrive_subject.c_str(), nullptr, natsMsg_GetData(kept),
                                natsMsg_GetDataLength(kept));
  const auto set = [&](const char* k, const std::string& v) {
    if (s == NATS_OK) s = natsMsgHeader_Set(m, k, v.c_str());
  };
  set("Fiskil-Message-Id", jetstream_header(kept, "Nats-Msg-Id"));
  set("Fiskil-Event", jetstream_event(kept));
  set("Fiskil-Received-Time", jetstream_header(kept, "Fiskil-Received-Time"));
  set("Fiskil-Series-Start", std::to_string(now_ns));
  set("Fiskil-Replay-Of", std::to_string(seq));
  jsPubAck* pa = nullptr;
  if (s == NATS_OK) s = js_PublishMsg(&pa, js, m, nullptr, nullptr);
  if (pa) jsPubAck_Destroy(pa);
  if (m) natsMsg_Destroy(m);
  if (s != NATS_OK) error = "replay delivery " + std::to_string(seq) + ": " + text(s);
  return s == NATS_OK;
}

}  // namespace

std::string jetstream_header(natsMsg* m, const char* key) {
  const char* value = nullptr;
  return natsMsgHeader_Get(m, key, &value) == NATS_OK && value != nullptr ? std::string(value) : std::string();
}

std::string jetstream_event(natsMsg* m) {
  std::string event;
  std::optional<std::string> order_key;
  forward_jetstream_envelope(std::string(natsMsg_GetData(m), static_cast<std::size_t>(natsMsg_GetDataLength(m))),
                             event, order_key);
  if (event.empty()) event = jetstream_header(m, "Fiskil-Event");
  if (event.empty()) {
    const std::string_view subject = natsMsg_GetSubject(m);
    event = subject.substr(subject.rfind('.') + 1);
  }
  return event;
}

bool jetstream_replay(jsCtx* js, const std::string& stream, const forward_jetstream_names& names,
                      const jetstream_replay_filter& filter, std::int64_t now_ns, std::int64_t& replayed,
                      std::string& error) {
  replayed = 0;
  // What the destination's consumer has fetched: up to Delivered.Stream.
  jsConsumerInfo* ci = nullptr;
  natsStatus s = js_GetConsumerInfo(&ci, js, stream.c_str(), names.consumer.c_str(), nullptr, nullptr);
  if (s != NATS_OK) {
    error = "consumer " + names.consumer + ": " + text(s);
    return false;
  }
  const std::uint64_t fetched = ci->Delivered.Stream;
  const std::string subjects = ci->Config && ci->Config->FilterSubject ? ci->Config->FilterSubject : ">";
  jsConsumerInfo_Destroy(ci);
  if (fetched == 0) return true;

  bool ok = true;
  const auto wanted = [&](natsMsg* m) { return filter.event.empty() || jetstream_event(m) == filter.event; };
  if (!filter.id.empty()) {
    // No index by id: the headers of every fetched delivery are read, then
    // the matching ones whole.
    const std::string as_header = jetstream_store::msg_id(filter.id);
    std::vector<std::uint64_t> found;
    ok = jetstream_scan(js, stream, subjects, {}, true, fetched,
                        [&](std::uint64_t seq, natsMsg* m) {
                          const std::string id = jetstream_header(m, "Nats-Msg-Id");
                          if (id == filter.id || id == as_header) found.push_back(seq);
                          return true;
                        },
                        error);
    for (std::size_t i = 0; ok && i < found.size(); ++i) {
      natsMsg* m = nullptr;
      s = js_GetMsg(&m, js, stream.c_str(), found[i], nullptr, nullptr);
      if (s == NATS_NOT_FOUND) continue;  // gone since (--keep)
      if (s != NATS_OK) {
        error = "delivery " + std::to_string(found[i]) + ": " + text(s);
        return false;
      }
      if (wanted(m)) {
        ok = replay_one(js, names, found[i], m, now_ns, error);
        replayed += ok;
      }
      natsMsg_Destroy(m);
    }
    return ok;
  }
  // --since: from the messages stored since a minute before (a delivery is
  // stored after its receipt; the gateway's and the servers' clocks may
  // differ), those received at or after it.
  std::string failed;
  const std::int64_t from = *filter.since_ns - clock_margin_ns;
  ok = jetstream_scan(js, stream, subjects, {.seq = 0, .time_ns = from > 0 ? from : 1}, false, fetched,
                      [&](std::uint64_t seq, natsMsg* m) {
                        if (to_int(jetstream_header(m, "Fiskil-Received-Time")) < *filter.since_ns || !wanted(m))
                          return true;
                        if (!replay_one(js, names, seq, m, now_ns, failed)) return false;
                        ++replayed;
                        return true;
                      },
                      error);
  if (!failed.empty()) error = failed;
  return ok && failed.empty();
}

}  // namespace fiskil::gateway
