// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
//
// jetstream_scan: reads a stream in order, for fiskil-gateway jetstream
// replay and list: an ordered consumer (ephemeral, no acks, flow controlled,
// made and deleted by nats.c), so a scan costs one pass over the messages it
// reads and no request per message.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include <nats/nats.h>

namespace fiskil::gateway {

// jetstream_scan_from is where a scan starts: a stream sequence, else a
// time (the messages stored at or after it), else the first message.
struct jetstream_scan_from {
  std::uint64_t seq = 0;
  std::int64_t time_ns = 0;
};

// jetstream_scan calls f(seq, message) for stream's messages on filter, in
// order, until the last message there was when it was read, one beyond
// last_seq (when not 0; not passed to f), or f returns false. With
// headers_only the bodies are not sent. False with error on a NATS error,
// or when no message comes for 5 s though more were announced.
bool jetstream_scan(jsCtx* js, const std::string& stream, const std::string& filter, jetstream_scan_from from,
                    bool headers_only, std::uint64_t last_seq, const std::function<bool(std::uint64_t, natsMsg*)>& f,
                    std::string& error);

}  // namespace fiskil::gateway
