// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
//
// in_flight: the deliveries handed to the store and not answered yet. It
// settles each one exactly once, with the store's answer or at the store
// deadline, whichever comes first; copies of a delivery wait for its answer
// and events of its consent wait for it to settle. docs/gateway.md, "In
// flight".
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "storage.hpp"

namespace fiskil::gateway {

// settled is how a delivery in flight ended: the store's answer, or nullopt
// when the store deadline passed first.
using settled = std::optional<stored>;

// in_flight tracks deliveries from the store's append to their answer. All
// methods are safe from any thread. Callbacks run on the thread that settles
// (the store's, or the deadline thread), never under the registry's lock.
class in_flight {
 public:
  using clock = std::chrono::steady_clock;

  // A ticket is one delivery in flight; settle it with settle().
  struct entry;
  using ticket = std::shared_ptr<entry>;

  // store_timeout is the store deadline: a delivery not settled by the
  // store within it from its start is settled as timed out.
  explicit in_flight(std::chrono::nanoseconds store_timeout);
  ~in_flight();
  in_flight(const in_flight&) = delete;
  in_flight& operator=(const in_flight&) = delete;

  // begin registers a delivery handed to the store (message_id, and
  // consent_id for a consent event, else empty) that started at started.
  // on_settled runs exactly once, when settle() or the deadline first
  // settles it; then the copies and consent waiters are released.
  ticket begin(std::string message_id, std::string consent_id, clock::time_point started,
               std::function<void(settled)> on_settled);

  // settle gives the store's answer. Returns false when the ticket was
  // settled already (the deadline passed first): a late answer.
  bool settle(const ticket& t, stored what);

  // wait_for_copy makes on_answer run with how the delivery in flight under
  // message_id settled. Returns false, doing nothing, when none is in flight.
  bool wait_for_copy(std::string_view message_id, std::function<void(settled)> on_answer);

  // wait_for_consent makes on_released run once the consent's delivery in
  // flight has settled. Returns false, doing nothing, when none is in flight.
  bool wait_for_consent(std::string_view consent_id, std::function<void()> on_released);

  // deadline is the latest a delivery that started at started may be settled.
  [[nodiscard]] clock::time_point deadline(clock::time_point started) const noexcept { return started + timeout_; }

  // count and oldest_age: deliveries in flight, and the age of the oldest
  // (zero when none).
  [[nodiscard]] std::size_t count() const;
  [[nodiscard]] std::chrono::nanoseconds oldest_age() const;

  // write_metrics appends the registry's Prometheus metrics.
  void write_metrics(std::string& out) const;

 private:
  void run_deadlines();
  void finish(const ticket& t, settled how);

  struct text_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view text) const noexcept { return std::hash<std::string_view>{}(text); }
  };
  using index = std::unordered_map<std::string, ticket, text_hash, std::equal_to<>>;

  const std::chrono::nanoseconds timeout_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  index by_message_, by_consent_;
  std::multimap<clock::time_point, ticket> by_start_;  // the oldest first: readiness and the deadline thread
  bool stopping_ = false;
  clock::time_point wakes_at_ = clock::time_point::min();  // when the deadline thread wakes; min(): it is awake
  std::uint64_t timeouts_ = 0, late_answers_ = 0, copies_waited_ = 0, consent_waits_ = 0;
  std::thread deadlines_;
};

}  // namespace fiskil::gateway
