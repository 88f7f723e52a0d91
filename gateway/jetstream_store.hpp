// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
//
// The gateway's store on NATS JetStream (libnats, the C client): several
// gateway replicas share one stream and one consent key-value bucket, so a
// retry or a revocation seen by one replica holds for all. docs/jetstream.md
// gives the design: the confirmed and pending consent states, the claim,
// publish and confirmation, what each failure does, and what a 200 survives.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "storage.hpp"

namespace fiskil::gateway {

// jetstream_options configures a jetstream_store.
struct jetstream_options {
  // servers is one NATS URL or several, comma-separated
  // (nats://host:4222,nats://other:4222); the client picks one and fails
  // over to the others.
  std::string servers = "nats://127.0.0.1:4222";
  // creds_file: a .creds file (user JWT and NKey seed) that the client reads
  // at each connect (natsOptions_SetUserCredentialsFromFiles); empty: none.
  std::string creds_file;
  // token: the authentication token (natsOptions_SetToken); empty: none.
  // The caller wipes its copy; open wipes the store's.
  std::string token;
  // stream is the stream's name; created when missing, checked otherwise.
  std::string stream = "FISKIL";
  // subject_prefix: deliveries go to <prefix>.<event name>, unknown event
  // types to <prefix>.unknown; the stream takes <prefix>.>.
  std::string subject_prefix = "fiskil.events";
  // replicas of the stream and of the consent bucket (1, 3 or 5), or 0 to
  // choose: 3 when the server says its cluster has three or more servers;
  // with fewer, open refuses (one replica must be asked for explicitly).
  int replicas = 0;
  // consent_bucket_replicas: replicas of the consent bucket when it is
  // created; 0: the stream's. One by default: nats-server before 2.9.21
  // checks a key-value compare-and-set before proposing it to its replicas,
  // not when applying it (nats-io/nats-server#4320), so on a replicated
  // bucket two gateways racing on one consent can both win; a one-replica
  // bucket checks and stores under one lock (docs/jetstream.md, "Consent
  // order on nats-server 2.9").
  int consent_bucket_replicas = 1;
  // memory_storage keeps the stream and the bucket in memory (file
  // storage by default).
  bool memory_storage = false;
  // consent_bucket is the key-value bucket holding each consent's latest
  // applied state.
  std::string consent_bucket = "fiskil-consents";
  // duplicate_window is the stream's deduplication window and the consent
  // states' time to live: the receiver's retention (70 minutes by default).
  std::chrono::nanoseconds duplicate_window = std::chrono::minutes{70};
  // max_age is how long the stream keeps messages; raised to
  // duplicate_window when shorter.
  std::chrono::nanoseconds max_age = std::chrono::hours{24 * 7};
  // pending_bound: a consent event of another message that is pending for
  // longer than this is resolved against the stream (its publisher failed
  // or stopped); until then a later event of that consent is answered
  // unavailable after waiting up to pending_wait. Longer than ack_timeout.
  std::chrono::nanoseconds pending_bound = std::chrono::seconds{15};
  std::chrono::milliseconds pending_wait{1000};
  // ack_timeout bounds one publish acknowledgement and one key-value call.
  std::chrono::milliseconds ack_timeout{5000};
  // max_in_flight bounds the appends queued or awaiting their
  // acknowledgement; more are answered unavailable at once.
  std::size_t max_in_flight = 10000;
  // workers is the number of threads that build and publish messages and
  // run the consent compare-and-set (which blocks on the network).
  unsigned workers = 4;
  // log receives one line per connection or configuration event.
  std::function<void(const std::string&)> log;

  // For tests only: test_before_cas runs between reading a consent's state
  // and the compare-and-set (to race another replica against it);
  // test_fail_publish, when it returns true, makes the publish after a won
  // compare-and-set fail as a lost connection would; test_skip_clear leaves
  // such a failed event pending, and test_skip_confirm leaves a published one
  // pending (as a replica that stopped at that point would).
  std::function<void(const record&)> test_before_cas;
  std::function<bool(const record&)> test_fail_publish;
  std::function<bool(const record&)> test_skip_clear;
  std::function<bool(const record&)> test_skip_confirm;
};

class jetstream_store final : public storage {
 public:
  // open connects to NATS (retrying in the background when no server
  // answers yet) and, once connected, creates or checks the stream and the
  // bucket. Returns nullptr with error set for bad options or a stream that
  // exists with a configuration the store cannot use (other subjects).
  [[nodiscard]] static std::unique_ptr<jetstream_store> open(const jetstream_options& options, std::string& error);

  ~jetstream_store() override;
  jetstream_store(const jetstream_store&) = delete;
  jetstream_store& operator=(const jetstream_store&) = delete;

  // append publishes r with Nats-Msg-Id = message_id; a consent event is
  // first claimed pending on its consent's value, and confirmed after the
  // acknowledgement, or answered from the confirmed state alone
  // (docs/jetstream.md).
  void append(record r, std::function<void(stored)> done) override;
  [[nodiscard]] bool ready() const override;
  // durable is false for a one-replica or memory stream (known once
  // connected when replicas is 0).
  [[nodiscard]] bool durable() const;
  // warm has nothing to load: the stream deduplicates message ids and the
  // consent states are read from the bucket when needed.
  void warm(fw::receiver& receiver, std::int64_t now_ns, std::int64_t retention_ns) override;
  void write_metrics(std::string& out) const override;
  void stop() override;

  // subject_for is the subject a delivery of event_name is published on.
  [[nodiscard]] std::string subject_for(std::string_view event_name) const;
  // consent_key is the bucket key of a consent id (the id itself when it is
  // made of letters, digits, '-' and '_', else its hex encoding).
  [[nodiscard]] static std::string consent_key(std::string_view consent_id);
  // msg_id is the Nats-Msg-Id of a message_id (hex-encoded when it holds
  // bytes a header value cannot).
  [[nodiscard]] static std::string msg_id(std::string_view message_id);

  struct impl;

 private:
  explicit jetstream_store(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

}  // namespace fiskil::gateway
