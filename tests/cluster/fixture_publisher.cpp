// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
//
// fixture-publisher URLS STREAM FIXTURES_DIR: publishes every signed fixture
// delivery of FIXTURES_DIR/manifest.tsv through the JetStream store, as the
// gateway would after admitting it, and prints "<message_id> <stored>" per
// delivery. For the consumer test of the cluster suite.
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

#include "jetstream_store.hpp"

namespace fg = fiskil::gateway;
namespace fw = fiskil::webhooks;

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

const char* name_of(fg::stored s) {
  switch (s) {
    case fg::stored::kept: return "kept";
    case fg::stored::duplicate: return "duplicate";
    case fg::stored::superseded: return "superseded";
    case fg::stored::after_revocation: return "after_revocation";
    case fg::stored::unavailable: return "unavailable";
  }
  return "?";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: fixture-publisher URL[,URL...] STREAM FIXTURES_DIR\n");
    return 2;
  }
  fg::jetstream_options o;
  o.servers = argv[1];
  o.stream = argv[2];
  o.replicas = 1;  // the consumer test runs one server
  o.log = [](const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); };
  std::string error;
  auto store = fg::jetstream_store::open(o, error);
  if (!store) {
    std::fprintf(stderr, "fixture-publisher: %s\n", error.c_str());
    return 1;
  }
  const std::string dir = argv[3];
  std::istringstream manifest(read_file(dir + "/manifest.tsv"));
  std::string line;
  std::getline(manifest, line);  // header
  int failures = 0;
  while (std::getline(manifest, line)) {
    std::vector<std::string> cells;
    std::istringstream split(line);
    for (std::string cell; std::getline(split, cell, '\t');) cells.push_back(cell);
    if (cells.size() < 7) continue;
    fg::record r;
    r.event_name = cells[1];
    r.signature = cells[2];
    r.message_id = cells[4];
    r.publish_time_ns = std::stoll(cells[5]);
    r.received_time_ns = r.publish_time_ns + 1000;
    r.body = read_file(dir + "/" + cells[0] + ".json");
    if (r.event_name == "consent.received") r.consent_change = fw::consent_change::received;
    if (r.event_name == "consent.updated") r.consent_change = fw::consent_change::updated;
    if (r.event_name == "consent.revoked") r.consent_change = fw::consent_change::revoked;
    if (r.consent_change) r.consent_id = cells[6];
    const std::string id = r.message_id;
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
    fg::stored what{};
    store->append(std::move(r), [&](fg::stored s) {
      std::lock_guard lock(mu);
      what = s;
      done = true;
      cv.notify_all();
    });
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return done; });
    std::printf("%s %s\n", id.c_str(), name_of(what));
    failures += what == fg::stored::unavailable;
  }
  store->stop();
  return failures == 0 ? 0 : 1;
}
