// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
#include "jetstream_scan.hpp"

namespace fiskil::gateway {

bool jetstream_scan(jsCtx* js, const std::string& stream, const std::string& filter, jetstream_scan_from from,
                    bool headers_only, std::uint64_t last_seq, const std::function<bool(std::uint64_t, natsMsg*)>& f,
                    std::string& error) {
  jsSubOptions so;
  jsSubOptions_Init(&so);
  so.Stream = stream.c_str();
  so.Ordered = true;
  so.Config.HeadersOnly = headers_only;
  if (from.seq != 0) {
    so.Config.DeliverPolicy = js_DeliverByStartSequence;
    so.Config.OptStartSeq = from.seq;
  } else if (from.time_ns != 0) {
    so.Config.DeliverPolicy = js_DeliverByStartTime;
    so.Config.OptStartTime = from.time_ns;
  } else {
    so.Config.DeliverPolicy = js_DeliverAll;
  }
  natsSubscription* sub = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  natsStatus s = js_SubscribeSync(&sub, js, filter.c_str(), nullptr, &so, &jerr);
  if (s != NATS_OK) {
    error = "read " + stream + " (" + filter + "): " + natsStatus_GetText(s);
    return false;
  }
  // Nothing sent and nothing pending: an empty range (waiting for a first
  // message would only end in the timeout).
  jsConsumerInfo* ci = nullptr;
  s = natsSubscription_GetConsumerInfo(&ci, sub, nullptr, &jerr);
  bool more = s == NATS_OK && (ci->NumPending > 0 || ci->Delivered.Consumer > 0);
  if (ci) jsConsumerInfo_Destroy(ci);
  while (s == NATS_OK && more) {
    natsMsg* m = nullptr;
    s = natsSubscription_NextMsg(&m, sub, 5000);
    if (s != NATS_OK) break;
    jsMsgMetaData* meta = nullptr;
    if (natsMsg_GetMetaData(&meta, m) != NATS_OK) {  // not a stream message
      natsMsg_Destroy(m);
      continue;
    }
    const std::uint64_t seq = meta->Sequence.Stream, pending = meta->NumPending;
    jsMsgMetaData_Destroy(meta);
    if (last_seq != 0 && seq > last_seq) {
      natsMsg_Destroy(m);
      break;
    }
    more = f(seq, m) && pending > 0 && (last_seq == 0 || seq < last_seq);
    natsMsg_Destroy(m);
  }
  if (s != NATS_OK) error = "read " + stream + " (" + filter + "): " + natsStatus_GetText(s);
  (void)natsSubscription_Unsubscribe(sub);  // deletes the ephemeral consumer
  natsSubscription_Destroy(sub);
  return s == NATS_OK;
}

}  // namespace fiskil::gateway
