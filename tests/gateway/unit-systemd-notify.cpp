// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
//
// gateway/systemd_notify: the watchdog pets systemd only while the probes it
// posts run, so a stalled I/O loop stops the pets.
#include <doctest/doctest.h>

#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "systemd_notify.hpp"

namespace gw = fiskil::gateway;
using namespace std::chrono_literals;

namespace {

// notify_socket is systemd's end: a datagram socket NOTIFY_SOCKET names.
struct notify_socket {
  int fd = -1;
  std::string path;
  notify_socket() {
    char dir[] = "/tmp/fiskil-notify-XXXXXX";
    REQUIRE(mkdtemp(dir) != nullptr);
    path = std::string(dir) + "/notify.sock";
    fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd >= 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::snprintf(address.sun_path, sizeof address.sun_path, "%s", path.c_str());
    REQUIRE(bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0);
    const timeval wait{0, 50'000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof wait);
  }
  ~notify_socket() {
    close(fd);
    unlink(path.c_str());
    rmdir(path.substr(0, path.rfind('/')).c_str());
  }
  // pets counts the WATCHDOG=1 messages that arrive within wait.
  int pets(std::chrono::milliseconds wait) {
    int count = 0;
    const auto until = std::chrono::steady_clock::now() + wait;
    while (std::chrono::steady_clock::now() < until) {
      char buffer[512];
      const ssize_t n = recv(fd, buffer, sizeof buffer, 0);
      if (n > 0 && std::string(buffer, static_cast<std::size_t>(n)).rfind("WATCHDOG=1", 0) == 0) ++count;
    }
    return count;
  }
};

}  // namespace

TEST_CASE("the watchdog pets only while the posted probes run") {
  notify_socket systemd;
  setenv("NOTIFY_SOCKET", systemd.path.c_str(), 1);
  setenv("WATCHDOG_USEC", "100000", 1);  // a pet every 50 ms
  unsetenv("WATCHDOG_PID");

  std::mutex mutex;
  std::vector<std::function<void()>> queued;  // the "I/O loop": runs nothing until told
  gw::watchdog pet([&](std::function<void()> probe) {
    const std::lock_guard lock(mutex);
    queued.push_back(std::move(probe));
  });
  CHECK(pet.period() == 50ms);
  // Stalled: the first pet, then none however long we wait.
  int first = 0;
  for (int tries = 0; tries < 100 && first == 0; ++tries) first = systemd.pets(50ms);
  CHECK(first == 1);
  CHECK(systemd.pets(400ms) == 0);
  // The loop runs its queue: pets resume.
  {
    const std::lock_guard lock(mutex);
    REQUIRE(queued.size() == 1);
    queued.front()();
    queued.clear();
  }
  int more = 0;
  for (int tries = 0; tries < 100 && more == 0; ++tries) more = systemd.pets(50ms);
  CHECK(more == 1);
  pet.stop();
  {
    const std::lock_guard lock(mutex);
    CHECK(queued.size() == 1);  // one probe per pet
  }
  CHECK(systemd.pets(200ms) == 0);  // none after stop()
  unsetenv("NOTIFY_SOCKET");
  unsetenv("WATCHDOG_USEC");
}

TEST_CASE("without WATCHDOG_USEC, no watchdog") {
  unsetenv("WATCHDOG_USEC");
  int posted = 0;
  gw::watchdog pet([&](std::function<void()>) { ++posted; });
  CHECK(pet.period().count() == 0);
  pet.stop();
  CHECK(posted == 0);
}
