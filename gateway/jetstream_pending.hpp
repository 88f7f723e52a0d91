// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
//
// jetstream_pending: fiskil-gateway jetstream list, the deliveries that a
// destination's consumers have not acknowledged yet. JetStream tells a
// consumer's ack floor (every message at or below it is acked) and the last
// message it delivered, not which ones above the floor were acked: those
// acked out of order (a later consent's 2xx before an earlier one's) are
// listed too, as held.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include <nats/nats.h>

#include "forward_jetstream.hpp"

namespace fiskil::gateway {

struct jetstream_pending_entry {
  std::uint64_t seq = 0;    // in the stream, or in <stream>_DEAD when redriven
  std::string message_id;   // as in the headers (hex: when not printable)
  std::string event;
  std::string state;        // held (fetched, no ack seen), pending (not fetched); redriven- before either
};

// jetstream_pending calls f for at most limit deliveries above the ack
// floors of names' two consumers (the stream's, then the redrive one's), in
// order; more is true when there were others. It reads at most limit + 1 of
// the stream's deliveries, one request each, and the redrive copies' headers.
// False with error on a NATS error.
bool jetstream_pending(jsCtx* js, const std::string& stream, const forward_jetstream_names& names,
                       std::size_t limit, const std::function<void(const jetstream_pending_entry&)>& f, bool& more,
                       std::string& error);

}  // namespace fiskil::gateway
