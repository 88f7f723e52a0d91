// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
//
// gateway/in_flight: each delivery is settled exactly once, by the store or
// at the deadline, whichever comes first; copies and consent waiters are
// released after the first's callback (which settles the receiver).
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "in_flight.hpp"

namespace gw = fiskil::gateway;
using namespace std::chrono_literals;

TEST_CASE("the store's answer settles once; copies get it after the first's callback") {
  gw::in_flight flights(10s);
  std::vector<std::string> order;
  const auto t = flights.begin("m-1", "", gw::in_flight::clock::now(), [&](gw::settled how) {
    REQUIRE(how.has_value());
    CHECK(*how == gw::stored::kept);
    order.push_back("first");
  });
  CHECK(flights.count() == 1);
  CHECK(flights.wait_for_copy("m-1", [&](gw::settled how) {
    CHECK(how == gw::settled{gw::stored::kept});
    order.push_back("copy");
  }));
  CHECK_FALSE(flights.wait_for_copy("m-2", [](gw::settled) {}));  // none in flight under that id
  CHECK(flights.settle(t, gw::stored::kept));
  CHECK_FALSE(flights.settle(t, gw::stored::unavailable));  // a second answer is late, ignored
  CHECK(order == std::vector<std::string>{"first", "copy"});
  CHECK(flights.count() == 0);
  CHECK_FALSE(flights.wait_for_copy("m-1", [](gw::settled) {}));  // settled: gone
}

TEST_CASE("the deadline settles first; the store's later answer is late") {
  gw::in_flight flights(100ms);
  std::atomic<int> calls{0};
  std::atomic<bool> timed_out{false};
  const auto t = flights.begin("m-3", "c-1", gw::in_flight::clock::now(), [&](gw::settled how) {
    ++calls;
    timed_out = !how.has_value();
  });
  std::atomic<bool> released{false};
  CHECK(flights.wait_for_consent("c-1", [&] { released = true; }));
  for (int i = 0; i < 200 && calls == 0; ++i) std::this_thread::sleep_for(5ms);
  CHECK(calls == 1);
  CHECK(timed_out);
  CHECK(released);
  CHECK_FALSE(flights.settle(t, gw::stored::kept));
  CHECK(calls == 1);
  std::string metrics;
  flights.write_metrics(metrics);
  CHECK(metrics.find("fiskil_gateway_store_timeouts_total 1") != std::string::npos);
  CHECK(metrics.find("fiskil_gateway_store_late_answers_total 1") != std::string::npos);
}

TEST_CASE("store answers racing the deadline: every delivery settled exactly once") {
  gw::in_flight flights(2ms);
  constexpr int count = 400;
  std::vector<std::atomic<int>> calls(count);
  std::vector<gw::in_flight::ticket> tickets;
  // Each first's callback takes a while (it answers the provider): the
  // deadline passes while the store's thread is still settling it.
  for (int i = 0; i < count; ++i)
    tickets.push_back(flights.begin("m-" + std::to_string(i), "", gw::in_flight::clock::now(), [&calls, i](gw::settled) {
      ++calls[static_cast<std::size_t>(i)];
      std::this_thread::sleep_for(1ms);
    }));
  // The store answers around the deadline, from another thread.
  std::thread store([&] {
    for (int i = 0; i < count; ++i) (void)flights.settle(tickets[static_cast<std::size_t>(i)], gw::stored::kept);
  });
  store.join();
  for (int i = 0; i < 400 && flights.count() > 0; ++i) std::this_thread::sleep_for(5ms);
  CHECK(flights.count() == 0);
  int once = 0;
  for (auto& c : calls) once += c.load() == 1 ? 1 : 0;
  CHECK(once == count);
}
