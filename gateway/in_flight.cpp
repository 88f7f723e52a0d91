// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
#include "in_flight.hpp"

#include <utility>

#include "metrics.hpp"
#include "thread_name.hpp"

namespace fiskil::gateway {

struct in_flight::entry {
  std::string message_id, consent_id;
  clock::time_point started;
  std::multimap<clock::time_point, ticket>::iterator by_start;
  bool done = false;  // under the registry's lock
  std::function<void(settled)> on_settled;
  std::vector<std::function<void(settled)>> copies;
  std::vector<std::function<void()>> consent_waiters;
};

in_flight::in_flight(std::chrono::nanoseconds store_timeout) : timeout_(store_timeout) {
  deadlines_ = std::thread([this] {
    name_this_thread("fw-deadline");
    run_deadlines();
  });
}

in_flight::~in_flight() {
  {
    const std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (deadlines_.joinable()) deadlines_.join();
}

in_flight::ticket in_flight::begin(std::string message_id, std::string consent_id, clock::time_point started,
                                   std::function<void(settled)> on_settled) {
  auto t = std::make_shared<entry>();
  t->message_id = std::move(message_id);
  t->consent_id = std::move(consent_id);
  t->started = started;
  t->on_settled = std::move(on_settled);
  bool earlier = false;
  {
    const std::lock_guard lock(mutex_);
    // The receiver holds one pending delivery per message_id and per
    // consent, so these keys are free (a timed-out one was removed).
    by_message_[t->message_id] = t;
    if (!t->consent_id.empty()) by_consent_[t->consent_id] = t;
    t->by_start = by_start_.emplace(started, t);
    // The deadline thread is woken only when this deadline comes before
    // the time it sleeps until: not once per delivery.
    earlier = started + timeout_ < wakes_at_;
  }
  if (earlier) wake_.notify_one();
  return t;
}

bool in_flight::settle(const ticket& t, stored what) {
  {
    const std::lock_guard lock(mutex_);
    if (t->done) {
      ++late_answers_;
      return false;
    }
    t->done = true;
  }
  finish(t, what);
  return true;
}

// finish runs the first's callback (which settles the receiver's state),
// then unregisters the delivery and releases whoever waited on it: a copy
// that comes after finds the receiver settled, never a stale entry here.
void in_flight::finish(const ticket& t, settled how) {
  t->on_settled(how);
  t->on_settled = nullptr;
  std::vector<std::function<void(settled)>> copies;
  std::vector<std::function<void()>> consent_waiters;
  {
    const std::lock_guard lock(mutex_);
    if (const auto it = by_message_.find(t->message_id); it != by_message_.end() && it->second == t)
      by_message_.erase(it);
    if (!t->consent_id.empty())
      if (const auto it = by_consent_.find(t->consent_id); it != by_consent_.end() && it->second == t)
        by_consent_.erase(it);
    by_start_.erase(t->by_start);
    copies.swap(t->copies);
    consent_waiters.swap(t->consent_waiters);
  }
  for (auto& copy : copies) copy(how);
  for (auto& waiter : consent_waiters) waiter();
}

bool in_flight::wait_for_copy(std::string_view message_id, std::function<void(settled)> on_answer) {
  const std::lock_guard lock(mutex_);
  const auto it = by_message_.find(message_id);
  if (it == by_message_.end()) return false;
  it->second->copies.push_back(std::move(on_answer));
  ++copies_waited_;
  return true;
}

bool in_flight::wait_for_consent(std::string_view consent_id, std::function<void()> on_released) {
  const std::lock_guard lock(mutex_);
  const auto it = by_consent_.find(consent_id);
  if (it == by_consent_.end()) return false;
  it->second->consent_waiters.push_back(std::move(on_released));
  ++consent_waits_;
  return true;
}

std::size_t in_flight::count() const {
  const std::lock_guard lock(mutex_);
  return by_start_.size();
}

std::chrono::nanoseconds in_flight::oldest_age() const {
  const std::lock_guard lock(mutex_);
  if (by_start_.empty()) return std::chrono::nanoseconds::zero();
  return std::max(std::chrono::nanoseconds::zero(), clock::now() - by_start_.begin()->first);
}

void in_flight::run_deadlines() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    // Asleep until wakes_at_: with nothing in flight, a store timeout from
    // now (a delivery registered meanwhile started before it went to sleep,
    // or wakes it: see begin). Awake, wakes_at_ is min(): nobody wakes it.
    const clock::time_point now = clock::now();
    const clock::time_point due = by_start_.empty() ? now + timeout_ : by_start_.begin()->first + timeout_;
    if (by_start_.empty() || now < due) {
      wakes_at_ = due;
      wake_.wait_until(lock, due);
      wakes_at_ = clock::time_point::min();
      continue;
    }
    const ticket t = by_start_.begin()->second;
    if (t->done) {
      // The store answered at the deadline: its thread is finishing it (and
      // will erase it); never settle one twice.
      wake_.wait_for(lock, std::chrono::milliseconds(1));
      continue;
    }
    t->done = true;
    ++timeouts_;
    lock.unlock();
    finish(t, std::nullopt);
    lock.lock();
  }
}

void in_flight::write_metrics(std::string& out) const {
  std::uint64_t pending = 0, timeouts = 0, late = 0, copies = 0, waits = 0;
  double oldest = 0;
  {
    const std::lock_guard lock(mutex_);
    pending = by_start_.size();
    if (!by_start_.empty())
      oldest = std::chrono::duration<double>(clock::now() - by_start_.begin()->first).count();
    timeouts = timeouts_;
    late = late_answers_;
    copies = copies_waited_;
    waits = consent_waits_;
  }
  append_metric(out, "fiskil_gateway_store_pending", "gauge",
                "Deliveries handed to the store and not answered yet.", pending);
  append_metric_header(out, "fiskil_gateway_store_oldest_pending_seconds", "gauge",
                       "Age of the oldest delivery waiting for the store.");
  out += "fiskil_gateway_store_oldest_pending_seconds ";
  out += std::to_string(oldest);
  out += '\n';
  append_metric(out, "fiskil_gateway_store_timeouts_total", "counter",
                "Deliveries answered 503 because the store did not answer within --store-timeout.", timeouts);
  append_metric(out, "fiskil_gateway_store_late_answers_total", "counter",
                "Store answers that came after their delivery's deadline (ignored; a retry is judged by the store).",
                late);
  append_metric(out, "fiskil_gateway_copies_waited_total", "counter",
                "Copies of a delivery in flight that waited for its answer instead of being answered at once.", copies);
  append_metric(out, "fiskil_gateway_consent_waits_total", "counter",
                "Consent events that waited for another event of their consent to be kept first.", waits);
}

}  // namespace fiskil::gateway
