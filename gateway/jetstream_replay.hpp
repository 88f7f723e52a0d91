// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
//
// jetstream_replay: fiskil-gateway jetstream replay, the journal's replay
// for forwarding from JetStream (docs/forward.md, "Commands"): copies of
// kept deliveries are published on <stream>_DEAD.<id>.redrive, where the
// forwarder takes them as a new series of attempts, same webhook-id.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <nats/nats.h>

#include "forward_jetstream.hpp"

namespace fiskil::gateway {

// jetstream_replay_filter picks the deliveries: by message id (as the
// store's Nats-Msg-Id, or the id itself), or received at or after since_ns;
// and of event when not empty.
struct jetstream_replay_filter {
  std::string id;
  std::optional<std::int64_t> since_ns;
  std::string event;
};

// jetstream_replay replays the deliveries of stream that match and that the
// destination's consumer has fetched already (the others it sends anyway),
// with series start now_ns; replayed counts them. False with error on a
// NATS error (the ones replayed before it stay replayed).
bool jetstream_replay(jsCtx* js, const std::string& stream, const forward_jetstream_names& names,
                      const jetstream_replay_filter& filter, std::int64_t now_ns, std::int64_t& replayed,
                      std::string& error);

// jetstream_event is a kept delivery's event: data.event of its body, else
// its Fiskil-Event header, else its subject's last token.
std::string jetstream_event(natsMsg* m);

// jetstream_header is a message's header, empty when absent.
std::string jetstream_header(natsMsg* m, const char* key);

}  // namespace fiskil::gateway
