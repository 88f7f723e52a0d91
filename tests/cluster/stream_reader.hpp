// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
//
// read_stream: every message of a JetStream stream, read back through the
// C client (js_GetMsg by sequence), for the cluster suite's checks.
#pragma once

#include <nats/nats.h>

#include <cstdint>
#include <string>
#include <vector>

namespace fiskil::cluster_test {

struct stream_message {
  std::uint64_t sequence = 0;
  std::string subject;
  std::string msg_id;  // Nats-Msg-Id
  std::string signature, publish_time, received_time, key_index;
  std::string data;
};

inline std::string header(natsMsg* m, const char* key) {
  const char* value = nullptr;
  return natsMsgHeader_Get(m, key, &value) == NATS_OK && value != nullptr ? std::string(value) : std::string();
}

// read_stream appends the stream's messages to out; false (with error) when
// the stream cannot be read.
inline bool read_stream(jsCtx* js, const char* stream, std::vector<stream_message>& out, std::string& error) {
  jsStreamInfo* si = nullptr;
  natsStatus s = js_GetStreamInfo(&si, js, stream, nullptr, nullptr);
  if (s != NATS_OK) {
    error = std::string("stream info: ") + natsStatus_GetText(s);
    return false;
  }
  const std::uint64_t first = si->State.FirstSeq;
  const std::uint64_t last = si->State.LastSeq;
  jsStreamInfo_Destroy(si);
  for (std::uint64_t seq = first; seq != 0 && seq <= last; ++seq) {
    natsMsg* m = nullptr;
    s = js_GetMsg(&m, js, stream, seq, nullptr, nullptr);
    if (s == NATS_NOT_FOUND) continue;  // deleted
    if (s != NATS_OK) {
      error = "get message " + std::to_string(seq) + ": " + natsStatus_GetText(s);
      return false;
    }
    stream_message one;
    one.sequence = seq;
    one.subject = natsMsg_GetSubject(m);
    one.msg_id = header(m, "Nats-Msg-Id");
    one.signature = header(m, "Fiskil-Signature");
    one.publish_time = header(m, "Fiskil-Publish-Time");
    one.received_time = header(m, "Fiskil-Received-Time");
    one.key_index = header(m, "Fiskil-Key-Index");
    one.data.assign(natsMsg_GetData(m), static_cast<std::size_t>(natsMsg_GetDataLength(m)));
    natsMsg_Destroy(m);
    out.push_back(std::move(one));
  }
  return true;
}

}  // namespace fiskil::cluster_test
