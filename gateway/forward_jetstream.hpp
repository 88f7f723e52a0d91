// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
//
// forward_jetstream: the forwarder's source for the JetStream store
// (--nats, docs/jetstream.md, "Forwarding"). Per destination, in the
// stream system:
//   - a durable pull consumer on the stream, forward_<id> (id: a hash of the
//     --forward URL), explicit ack, AckWait = --forward-timeout + 5 s,
//     MaxAckPending = the window (128 x --forward-concurrency);
//   - the stream <stream>_DEAD: dead letters on <stream>_DEAD.<id>.dead (the
//     body, with the last status and error in headers), and deliveries sent
//     again (redrive, replay) on <stream>_DEAD.<id>.redrive, read by a second
//     consumer, forward_<id>_redrive;
//   - the key-value bucket <stream>_FORWARD: lease.<id>, the one replica that
//     forwards to the destination now, and paused.<id> after a 410.
// A delivery is acked after the app's 2xx, or after its dead letter is
// stored; until then it is held (in progress), retried on the schedule, and
// redelivered by the server if this process stops.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <nats/nats.h>

#include "forward_source.hpp"

namespace fiskil::gateway {

// forward_jetstream_options configures the source.
struct forward_jetstream_options {
  std::string servers;  // --nats
  std::string stream;   // --stream
  std::string url;      // --forward
  std::chrono::nanoseconds timeout{};  // --forward-timeout
  std::size_t concurrency = 8;         // --forward-concurrency
};

// forward_jetstream_names are the stream system's names for one destination
// (shared with fiskil-gateway jetstream ...).
struct forward_jetstream_names {
  forward_jetstream_names(std::string_view stream, std::string_view url);
  std::string id;            // 16 hex digits of the URL's FNV-1a hash
  std::string consumer;      // forward_<id>
  std::string redrive_consumer;  // forward_<id>_redrive
  std::string bucket;        // <stream>_FORWARD
  std::string dead_stream;   // <stream>_DEAD
  std::string dead_subject;  // <stream>_DEAD.<id>.dead
  std::string redrive_subject;  // <stream>_DEAD.<id>.redrive
  std::string lease_key, paused_key;  // lease.<id>, paused.<id>
};

// forward_jetstream_envelope reads data.event and the order key
// (data.consent_id, else data.arrangementId) from a body; empty when absent.
void forward_jetstream_envelope(const std::string& body, std::string& event, std::optional<std::string>& order_key);

// forward_jetstream_window is the deliveries held at once (MaxAckPending).
std::size_t forward_jetstream_window(std::size_t concurrency);
// forward_jetstream_ack_wait is the consumers' AckWait, also the lease.
std::chrono::nanoseconds forward_jetstream_ack_wait(std::chrono::nanoseconds timeout);

// forward_jetstream_connect connects to servers (comma-separated URLs) and
// makes a JetStream context; with retry, a server not answering yet is
// retried in the background. The caller destroys js, nc and opts (in that
// order). False with error on failure.
bool forward_jetstream_connect(const std::string& servers, bool retry, natsOptions*& opts, natsConnection*& nc,
                               jsCtx*& js, std::string& error);

// make_forward_jetstream connects (retrying in the background: the stream
// system is set up on the first scan that reaches it). Null, with error,
// for bad options.
std::unique_ptr<forward_source> make_forward_jetstream(const forward_jetstream_options& options, std::string& error);

}  // namespace fiskil::gateway
