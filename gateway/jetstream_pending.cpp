// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
#include "jetstream_pending.hpp"

#include <algorithm>

#include "jetstream_replay.hpp"
#include "jetstream_scan.hpp"

namespace fiskil::gateway {

namespace {

std::string text(natsStatus s) { return natsStatus_GetText(s); }

}  // namespace

bool jetstream_pending(jsCtx* js, const std::string& stream, const forward_jetstream_names& names,
                       std::size_t limit, const std::function<void(const jetstream_pending_entry&)>& f, bool& more,
                       std::string& error) {
  more = false;
  std::size_t listed = 0;
  const auto take = [&](bool redriven, std::uint64_t fetched, std::uint64_t seq, natsMsg* m) {
    if (listed == limit) {
      more = true;
      return false;
    }
    ++listed;
    jetstream_pending_entry e;
    e.seq = seq;
    e.message_id = jetstream_header(m, redriven ? "Fiskil-Message-Id" : "Nats-Msg-Id");
    e.event = jetstream_event(m);
    e.state = std::string(redriven ? "redriven-" : "") + (seq <= fetched ? "held" : "pending");
    f(e);
    return true;
  };
  for (const bool redriven : {false, true}) {
    const std::string& on = redriven ? names.dead_stream : stream;
    const std::string& consumer = redriven ? names.redrive_consumer : names.consumer;
    jsConsumerInfo* ci = nullptr;
    natsStatus s = js_GetConsumerInfo(&ci, js, on.c_str(), consumer.c_str(), nullptr, nullptr);
    if (s != NATS_OK) {
      error = "consumer " + consumer + ": " + text(s);
      return false;
    }
    const std::uint64_t floor = ci->AckFloor.Stream, fetched = ci->Delivered.Stream;
    const std::string subjects = ci->Config && ci->Config->FilterSubject ? ci->Config->FilterSubject : ">";
    const bool none = ci->NumPending == 0 && floor >= fetched;  // all fetched, all acked
    jsConsumerInfo_Destroy(ci);
    if (none || more) continue;
    if (redriven) {
      // <stream>_DEAD holds every destination's dead letters and copies:
      // an ordered consumer on this one's redrive subject, headers only.
      if (!jetstream_scan(js, on, subjects, {.seq = floor + 1, .time_ns = 0}, true, 0,
                          [&](std::uint64_t seq, natsMsg* m) { return take(true, fetched, seq, m); }, error))
        return false;
      continue;
    }
    // The stream holds deliveries only, one per sequence (--keep trims it
    // from the front): one get per listed delivery.
    jsStreamInfo* si = nullptr;
    s = js_GetStreamInfo(&si, js, on.c_str(), nullptr, nullptr);
    if (s != NATS_OK) {
      error = "stream " + on + ": " + text(s);
      return false;
    }
    const std::uint64_t first = std::max(floor + 1, si->State.FirstSeq), last = si->State.LastSeq;
    jsStreamInfo_Destroy(si);
    for (std::uint64_t seq = first; seq <= last; ++seq) {
      natsMsg* m = nullptr;
      s = js_GetMsg(&m, js, on.c_str(), seq, nullptr, nullptr);
      if (s == NATS_NOT_FOUND) continue;
      if (s != NATS_OK) {
        error = "delivery " + std::to_string(seq) + ": " + text(s);
        return false;
      }
      const bool go_on = take(false, fetched, seq, m);
      natsMsg_Destroy(m);
      if (!go_on) break;
    }
  }
  return true;
}

}  // namespace fiskil::gateway
