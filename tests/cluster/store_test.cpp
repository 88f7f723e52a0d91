// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
//
// The JetStream store against real nats-server processes, started by
// run_store_test.py (FISKIL_NATS_URL: the servers; FISKIL_NATS_REPLICAS;
// FISKIL_NATS_PID: the single node's process, stopped with SIGSTOP for the
// outage cases, which run only with one node). Two store instances on one
// stream play two gateway replicas. Each case reads the stream back through
// the C client. docs/jetstream.md lists the branches these cases cover.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <signal.h>
#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "consent_state.hpp"
#include "jetstream_store.hpp"
#include "stream_reader.hpp"

namespace fg = fiskil::gateway;
namespace fw = fiskil::webhooks;
using namespace std::chrono_literals;
using fg::stored;

namespace {

std::string env(const char* name, const char* fallback = "") {
  const char* v = std::getenv(name);
  return v != nullptr ? std::string(v) : std::string(fallback);
}

int replicas() { return std::atoi(env("FISKIL_NATS_REPLICAS", "1").c_str()); }

// Every append's done, counted: each must run exactly once.
struct calls {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<stored> seen;
};
std::vector<std::shared_ptr<calls>> all_calls;

std::function<void(stored)> recorder(const std::shared_ptr<calls>& c) {
  all_calls.push_back(c);
  return [c](stored what) {
    std::lock_guard lock(c->mu);
    c->seen.push_back(what);
    c->cv.notify_all();
  };
}

stored wait_for(const std::shared_ptr<calls>& c, std::chrono::seconds limit = 30s) {
  std::unique_lock lock(c->mu);
  const bool got = c->cv.wait_for(lock, limit, [&] { return !c->seen.empty(); });
  REQUIRE(got);
  return c->seen.front();
}

stored put(fg::storage& store, fg::record r) {
  auto c = std::make_shared<calls>();
  store.append(std::move(r), recorder(c));
  return wait_for(c);
}

void check_each_done_once() {
  std::this_thread::sleep_for(50ms);
  for (const auto& c : all_calls) {
    std::lock_guard lock(c->mu);
    CHECK(c->seen.size() == 1);
  }
  all_calls.clear();
}

constexpr std::int64_t second = 1000000000;
const std::int64_t t0 = std::chrono::duration_cast<std::chrono::nanoseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();

fg::record delivery(const std::string& id, const std::string& event = "banking.accounts.sync.completed") {
  fg::record r;
  r.message_id = id;
  r.event_name = event;
  r.publish_time_ns = t0;
  r.received_time_ns = t0 + 5;
  r.key_index = 1;
  r.body = R"({"publish_time":"...","message_id":")" + id + R"(","data":{"event":")" + event + "\"}}";
  r.signature = "c2lnbmF0dXJlLW9mLSIgKyBpZA==";
  return r;
}

fg::record consent(const std::string& id, fw::consent_change change, std::int64_t at,
                   const std::string& consent_id = "9c3e1a52-0b8e-4a55-9d6f-2f0a9d1c7e11") {
  static const char* names[] = {"", "consent.received", "consent.updated", "consent.revoked"};
  fg::record r = delivery(id, names[static_cast<int>(change)]);
  r.consent_id = consent_id;
  r.consent_change = change;
  r.publish_time_ns = at;
  return r;
}

fg::jetstream_options options_for(const std::string& name) {
  fg::jetstream_options o;
  o.servers = env("FISKIL_NATS_URL", "nats://127.0.0.1:4222");
  o.stream = name;
  o.subject_prefix = name + ".events";
  o.consent_bucket = name + "-consents";
  o.replicas = replicas();
  o.ack_timeout = 5000ms;
  o.log = [](const std::string& line) {  // from the store's threads: not doctest's MESSAGE
    static std::mutex mu;
    std::lock_guard lock(mu);
    std::fprintf(stderr, "%s\n", line.c_str());
  };
  return o;
}

std::unique_ptr<fg::jetstream_store> open_store(const fg::jetstream_options& o) {
  std::string error;
  auto store = fg::jetstream_store::open(o, error);
  INFO(error);
  REQUIRE(store != nullptr);
  for (int i = 0; i < 200 && !store->ready(); ++i) std::this_thread::sleep_for(50ms);
  REQUIRE(store->ready());
  return store;
}

// A plain client connection, to read the stream back and to set things up
// the way an operator (or another version) would have.
struct client {
  natsConnection* nc = nullptr;
  jsCtx* js = nullptr;
  client() {
    natsOptions* o = nullptr;
    REQUIRE(natsOptions_Create(&o) == NATS_OK);
    std::vector<std::string> urls;
    std::string list = env("FISKIL_NATS_URL", "nats://127.0.0.1:4222") + ",";
    for (std::size_t at = list.find(','); at != std::string::npos; at = list.find(',')) {
      urls.push_back(list.substr(0, at));
      list.erase(0, at + 1);
    }
    std::vector<const char*> pointers;
    for (const std::string& u : urls) pointers.push_back(u.c_str());
    REQUIRE(natsOptions_SetServers(o, pointers.data(), static_cast<int>(pointers.size())) == NATS_OK);
    REQUIRE(natsConnection_Connect(&nc, o) == NATS_OK);
    natsOptions_Destroy(o);
    jsOptions jo;
    jsOptions_Init(&jo);
    jo.Wait = 10000;
    REQUIRE(natsConnection_JetStream(&js, nc, &jo) == NATS_OK);
  }
  ~client() {
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
  }
  std::vector<fiskil::cluster_test::stream_message> read(const std::string& stream) {
    std::vector<fiskil::cluster_test::stream_message> out;
    std::string error;
    const bool ok = fiskil::cluster_test::read_stream(js, stream.c_str(), out, error);
    INFO(error);
    REQUIRE(ok);
    return out;
  }
  std::vector<std::string> ids(const std::string& stream) {
    std::vector<std::string> out;
    for (const auto& m : read(stream)) out.push_back(m.msg_id);
    return out;
  }
};

// SIGSTOP of the only node: the connection stays up but nothing answers,
// as with a hung server or a lost quorum. Always continued.
struct paused_server {
  pid_t pid;
  explicit paused_server(pid_t p) : pid(p) {
    REQUIRE(kill(pid, SIGSTOP) == 0);
    // The signal is asynchronous: wait until every thread of the server is
    // stopped, or it may still answer the first requests.
    bool all_stopped = false;
    for (int i = 0; i < 400 && !all_stopped; ++i) {
      all_stopped = true;
      const std::string tasks = "/proc/" + std::to_string(pid) + "/task";
      for (const auto& task : std::filesystem::directory_iterator(tasks)) {
        std::ifstream stat(task.path() / "stat");
        std::string line;
        std::getline(stat, line);
        const std::size_t close = line.rfind(')');
        const char state = close != std::string::npos && close + 2 < line.size() ? line[close + 2] : '?';
        all_stopped = all_stopped && (state == 'T' || state == 't');
      }
      if (!all_stopped) std::this_thread::sleep_for(5ms);
    }
    REQUIRE(all_stopped);
  }
  ~paused_server() { resume(); }
  void resume() {
    if (pid != 0) kill(pid, SIGCONT);
    pid = 0;
  }
};

std::string metric(const fg::storage& store, const std::string& name) {
  std::string out;
  store.write_metrics(out);
  const std::size_t at = out.find("\n" + name + " ");
  if (at == std::string::npos) return "";
  const std::size_t start = at + name.size() + 2;
  return out.substr(start, out.find('\n', start) - start);
}

}  // namespace

TEST_CASE("consent_state: encode/decode round trip, legacy values, malformed values") {
  using fg::consent_event;
  using fg::consent_value;
  const consent_event c{fw::consent_change::updated, t0, "m-1"};
  const consent_event p{fw::consent_change::revoked, t0 + second, "id|with:bytes\n and 12:colons"};
  for (const consent_value& v : {consent_value{}, consent_value{c, std::nullopt, 0}, consent_value{std::nullopt, p, 42},
                                 consent_value{c, p, t0}}) {
    const auto back = fg::decode_consent_value(fg::encode_consent_value(v));
    REQUIRE(back.has_value());
    CHECK(*back == v);
  }
  CHECK(fg::encode_consent_value(consent_value{c, std::nullopt, 0}) == "2|C|2|" + std::to_string(t0) + "|3:m-1|P|-");
  // The format before 2.0 was written before the publish: read as pending
  // since time 0, so it is resolved against the stream.
  const auto legacy = fg::decode_consent_value("3 " + std::to_string(t0) + " old id");
  REQUIRE(legacy.has_value());
  CHECK_FALSE(legacy->confirmed.has_value());
  REQUIRE(legacy->pending.has_value());
  CHECK(legacy->pending->change == fw::consent_change::revoked);
  CHECK(legacy->pending->message_id == "old id");
  CHECK(legacy->pending_since_ns == 0);
  for (const char* bad : {"", "2|", "2|C|-|P|", "2|C|4|1|1:a|P|-", "2|C|1|1|5:a|P|-", "2|C|-|P|-x",
                          "2|C|1|x|1:a|P|-", "9 1 a", "2|C|-|P|1|1|1:a"})
    CHECK_FALSE(fg::decode_consent_value(bad).has_value());
}

TEST_CASE("consent_state: decisions are taken against confirmed state only") {
  using fg::consent_event;
  using fg::consent_step;
  using fg::consent_value;
  using fw::consent_change;
  constexpr std::int64_t bound = 15 * second;
  const consent_event received{consent_change::received, t0, "r"};
  const consent_event update{consent_change::updated, t0 + 2 * second, "u"};
  const consent_event older{consent_change::updated, t0 + second, "o"};
  const consent_event revoke{consent_change::revoked, t0, "v"};
  auto decide = [&](const std::optional<consent_value>& v, const consent_event& e, std::int64_t now = t0) {
    return fg::decide_consent(v, e, now, bound);
  };
  CHECK(decide(std::nullopt, update).step == consent_step::claim);
  // Confirmed update: older is superseded, the same change under another id a duplicate.
  const consent_value confirmed{update, std::nullopt, 0};
  CHECK(decide(confirmed, older).step == consent_step::answer);
  CHECK(decide(confirmed, older).answer == stored::superseded);
  CHECK(decide(confirmed, consent_event{consent_change::updated, t0 + 2 * second, "u2"}).answer == stored::duplicate);
  CHECK(decide(consent_value{revoke, std::nullopt, 0}, update).answer == stored::after_revocation);
  // A pending update (never confirmed) does not supersede anything: wait.
  const consent_value pending = fg::with_pending(consent_value{received, std::nullopt, 0}, update, t0);
  CHECK(decide(pending, older, t0 + second).step == consent_step::wait);
  CHECK(decide(pending, older, t0 + bound).step == consent_step::resolve);
  CHECK(decide(pending, update, t0 + second).step == consent_step::republish);
  CHECK(decide(pending, update, t0 + bound * 4).step == consent_step::republish);
  // Resolved absent: judged against received; resolved present: against update.
  CHECK(decide(fg::drop_pending(pending), older).step == consent_step::claim);
  CHECK(fg::drop_pending(pending).confirmed == received);
  CHECK(decide(fg::confirm_pending(pending), older).answer == stored::superseded);
  CHECK(fg::confirm_pending(pending).confirmed == update);
  CHECK_FALSE(fg::confirm_pending(pending).pending.has_value());
  // A pending revocation makes nothing after_revocation before it is kept.
  const consent_value pending_revoke = fg::with_pending(std::nullopt, revoke, t0);
  CHECK(decide(pending_revoke, update, t0 + 1).step == consent_step::wait);
  CHECK(decide(fg::drop_pending(pending_revoke), update).step == consent_step::claim);
}

TEST_CASE("plain deliveries: kept once, a second replica's retry is a duplicate, subjects and headers") {
  auto a = open_store(options_for("PLAIN"));
  auto b = open_store(options_for("PLAIN"));
  CHECK(put(*a, delivery("m-1")) == stored::kept);
  CHECK(put(*b, delivery("m-1")) == stored::duplicate);
  CHECK(put(*a, delivery("m-1")) == stored::duplicate);
  CHECK(put(*b, delivery("m-2", "brand.new.event")) == stored::kept);
  CHECK(put(*a, delivery("m 3\nwith bytes a header cannot hold")) == stored::kept);
  CHECK(put(*b, delivery("m 3\nwith bytes a header cannot hold")) == stored::duplicate);
  a->stop();
  b->stop();
  check_each_done_once();

  client c;
  const auto messages = c.read("PLAIN");
  REQUIRE(messages.size() == 3);
  CHECK(messages[0].msg_id == "m-1");
  CHECK(messages[0].subject == "PLAIN.events.banking.accounts.sync.completed");
  CHECK(messages[0].data == delivery("m-1").body);
  CHECK(messages[0].signature == delivery("m-1").signature);
  CHECK(messages[0].publish_time == std::to_string(t0));
  CHECK(messages[0].received_time == std::to_string(t0 + 5));
  CHECK(messages[0].key_index == "1");
  CHECK(messages[1].subject == "PLAIN.events.unknown");
  CHECK(messages[2].msg_id == fg::jetstream_store::msg_id("m 3\nwith bytes a header cannot hold"));
  CHECK(messages[2].msg_id.starts_with("hex:"));

  jsStreamInfo* si = nullptr;
  REQUIRE(js_GetStreamInfo(&si, c.js, "PLAIN", nullptr, nullptr) == NATS_OK);
  CHECK(si->Config->Duplicates == std::chrono::nanoseconds(70min).count());
  CHECK(si->Config->MaxAge >= si->Config->Duplicates);
  CHECK(si->Config->Replicas == replicas());
  CHECK(si->Config->Storage == js_FileStorage);
  jsStreamInfo_Destroy(si);
}

TEST_CASE("an existing stream: a short duplicate window is raised, other subjects are refused") {
  client c;
  jsStreamConfig cfg;
  jsStreamConfig_Init(&cfg);
  const char* subjects[] = {"SHORT.events.>"};
  cfg.Name = "SHORT";
  cfg.Subjects = subjects;
  cfg.SubjectsLen = 1;
  cfg.Duplicates = std::chrono::nanoseconds(2min).count();  // JetStream's default
  cfg.MaxAge = std::chrono::nanoseconds(10min).count();
  cfg.Replicas = replicas();
  REQUIRE(js_AddStream(nullptr, c.js, &cfg, nullptr, nullptr) == NATS_OK);
  {
    auto store = open_store(options_for("SHORT"));
    CHECK(put(*store, delivery("s-1")) == stored::kept);
  }
  jsStreamInfo* si = nullptr;
  REQUIRE(js_GetStreamInfo(&si, c.js, "SHORT", nullptr, nullptr) == NATS_OK);
  CHECK(si->Config->Duplicates == std::chrono::nanoseconds(70min).count());
  CHECK(si->Config->MaxAge >= std::chrono::nanoseconds(70min).count());
  jsStreamInfo_Destroy(si);

  const char* other[] = {"elsewhere.>"};
  cfg.Name = "OTHER";
  cfg.Subjects = other;
  REQUIRE(js_AddStream(nullptr, c.js, &cfg, nullptr, nullptr) == NATS_OK);
  std::string error;
  CHECK(fg::jetstream_store::open(options_for("OTHER"), error) == nullptr);
  CHECK(error.find("without the subject OTHER.events.>") != std::string::npos);
  check_each_done_once();
}

TEST_CASE("consent ordering across two replicas, by the library's rule; revocation is final") {
  auto a = open_store(options_for("ORDER"));
  auto b = open_store(options_for("ORDER"));
  using fw::consent_change;
  CHECK(put(*a, consent("c-received", consent_change::received, t0)) == stored::kept);
  CHECK(put(*b, consent("c-updated-2", consent_change::updated, t0 + 2 * second)) == stored::kept);
  CHECK(put(*a, consent("c-updated-1", consent_change::updated, t0 + 1 * second)) == stored::superseded);
  CHECK(put(*a, consent("c-updated-2-again", consent_change::updated, t0 + 2 * second)) == stored::duplicate);
  CHECK(put(*b, consent("c-updated-2", consent_change::updated, t0 + 2 * second)) == stored::duplicate);
  // Revocation is never stale: applied though published before the update.
  CHECK(put(*a, consent("c-revoked", consent_change::revoked, t0 + 1 * second)) == stored::kept);
  CHECK(put(*b, consent("c-updated-late", consent_change::updated, t0 + 3 * second)) == stored::after_revocation);
  CHECK(put(*a, consent("c-received-late", consent_change::received, t0 + 4 * second)) == stored::after_revocation);
  CHECK(put(*b, consent("c-revoked-again", consent_change::revoked, t0 + 5 * second)) == stored::duplicate);
  CHECK(put(*b, consent("c-revoked", consent_change::revoked, t0 + 1 * second)) == stored::duplicate);
  // Another consent is independent; an id a bucket key cannot hold is encoded.
  CHECK(put(*b, consent("d-updated", consent_change::updated, t0, "consent with spaces/and.dots")) == stored::kept);
  CHECK(put(*a, consent("d-updated-old", consent_change::updated, t0 - second, "consent with spaces/and.dots")) ==
        stored::superseded);
  a->stop();
  b->stop();
  check_each_done_once();
  client c;
  CHECK(c.ids("ORDER") == std::vector<std::string>{"c-received", "c-updated-2", "c-revoked", "d-updated"});
}

TEST_CASE("compare-and-set race: another replica revokes between the read and the write") {
  auto b = open_store(options_for("RACE"));
  fg::jetstream_options oa = options_for("RACE");
  std::atomic<int> raced{0};
  fg::jetstream_store* other = b.get();
  oa.test_before_cas = [&](const fg::record& r) {
    if (r.message_id == "u-racing" && raced++ == 0)
      CHECK(put(*other, consent("r-winner", fw::consent_change::revoked, t0 + second)) == stored::kept);
  };
  auto a = open_store(oa);
  CHECK(put(*a, consent("u-first", fw::consent_change::received, t0)) == stored::kept);
  CHECK(put(*a, consent("u-racing", fw::consent_change::updated, t0 + 2 * second)) == stored::after_revocation);
  CHECK(raced == 1);
  CHECK(std::stoi(metric(*a, "fiskil_gateway_jetstream_consent_total{verdict=\"cas_failed\"}")) >= 1);
  // Two replicas racing with the same new state: exactly one wins, the other
  // reads it back as a duplicate.
  a->stop();
  b->stop();
  check_each_done_once();
  client c;
  CHECK(c.ids("RACE") == std::vector<std::string>{"u-first", "r-winner"});
}

TEST_CASE("compare-and-set won, publish failed: the retry (on any replica) publishes, once") {
  fg::jetstream_options oa = options_for("REPUB");
  std::atomic<int> failures{0};
  oa.test_fail_publish = [&](const fg::record& r) { return r.message_id == "p-update" && failures++ == 0; };
  auto a = open_store(oa);
  auto b = open_store(options_for("REPUB"));
  CHECK(put(*a, consent("p-update", fw::consent_change::updated, t0)) == stored::unavailable);
  CHECK(failures == 1);
  CHECK(std::stoi(metric(*a, "fiskil_gateway_jetstream_consent_total{verdict=\"pending_cleared\"}")) == 1);
  // p-update was never kept: an older event is judged against the confirmed
  // state (none), not superseded by p-update.
  CHECK(put(*a, consent("p-older", fw::consent_change::updated, t0 - second)) == stored::kept);
  CHECK(put(*b, consent("p-update", fw::consent_change::updated, t0)) == stored::kept);
  CHECK(put(*a, consent("p-update", fw::consent_change::updated, t0)) == stored::duplicate);
  a->stop();
  b->stop();
  check_each_done_once();
  client c;
  CHECK(c.ids("REPUB") == std::vector<std::string>{"p-older", "p-update"});
}

TEST_CASE("publish failed and its pending left behind: a retry of it republishes, once") {
  fg::jetstream_options oa = options_for("REPUB2");
  std::atomic<int> failures{0};
  oa.test_fail_publish = [&](const fg::record& r) { return r.message_id == "q-update" && failures++ == 0; };
  oa.test_skip_clear = [](const fg::record&) { return true; };
  auto a = open_store(oa);
  auto b = open_store(options_for("REPUB2"));
  CHECK(put(*a, consent("q-update", fw::consent_change::updated, t0)) == stored::unavailable);
  CHECK(put(*b, consent("q-update", fw::consent_change::updated, t0)) == stored::kept);
  CHECK(std::stoi(metric(*b, "fiskil_gateway_jetstream_consent_total{verdict=\"retry_of_winner\"}")) == 1);
  CHECK(put(*a, consent("q-update", fw::consent_change::updated, t0)) == stored::duplicate);
  CHECK(put(*a, consent("q-older", fw::consent_change::updated, t0 - second)) == stored::superseded);
  a->stop();
  b->stop();
  check_each_done_once();
  client c;
  CHECK(c.ids("REPUB2") == std::vector<std::string>{"q-update"});
}

TEST_CASE("a pending event of another message: 503 while young, resolved against the stream once stale") {
  using fw::consent_change;
  fg::jetstream_options oa = options_for("PENDING");
  oa.pending_bound = 2s;  // more than ack_timeout
  oa.ack_timeout = 1500ms;
  oa.pending_wait = 200ms;
  // absent-*: the publish fails and the pending event stays (a replica that
  // died before publishing); present-*: published, never confirmed (one
  // that died after the acknowledgement).
  oa.test_fail_publish = [](const fg::record& r) { return r.message_id.starts_with("absent-"); };
  oa.test_skip_clear = [](const fg::record& r) { return r.message_id.starts_with("absent-"); };
  oa.test_skip_confirm = [](const fg::record& r) { return r.message_id.starts_with("present-"); };
  fg::jetstream_options ob = options_for("PENDING");
  ob.pending_bound = 2s;
  ob.ack_timeout = 1500ms;
  ob.pending_wait = 200ms;
  auto a = open_store(oa);
  auto b = open_store(ob);
  const std::string k1 = "consent-absent", k2 = "consent-present", k3 = "consent-revoke";

  // Absent: an update that failed must not make an older update superseded.
  CHECK(put(*b, consent("k1-received", consent_change::received, t0, k1)) == stored::kept);
  CHECK(put(*a, consent("absent-update", consent_change::updated, t0 + 2 * second, k1)) == stored::unavailable);
  CHECK(put(*b, consent("k1-update-older", consent_change::updated, t0 + second, k1)) == stored::unavailable);
  // Present: the stream has it, only its confirmation is missing.
  CHECK(put(*a, consent("present-update", consent_change::updated, t0 + 2 * second, k2)) == stored::kept);
  CHECK(put(*b, consent("k2-update-older", consent_change::updated, t0 + second, k2)) == stored::unavailable);
  // A revocation that failed must not make a later update after_revocation.
  CHECK(put(*a, consent("absent-revoke", consent_change::revoked, t0, k3)) == stored::unavailable);
  CHECK(put(*b, consent("k3-update", consent_change::updated, t0 + second, k3)) == stored::unavailable);
  CHECK(std::stoi(metric(*b, "fiskil_gateway_jetstream_consent_total{verdict=\"pending_busy\"}")) == 3);

  std::this_thread::sleep_for(2100ms);
  CHECK(put(*b, consent("k1-update-older", consent_change::updated, t0 + second, k1)) == stored::kept);
  CHECK(put(*b, consent("k2-update-older", consent_change::updated, t0 + second, k2)) == stored::superseded);
  CHECK(put(*b, consent("k3-update", consent_change::updated, t0 + second, k3)) == stored::kept);
  CHECK(std::stoi(metric(*b, "fiskil_gateway_jetstream_consent_total{verdict=\"resolved_absent\"}")) == 2);
  CHECK(std::stoi(metric(*b, "fiskil_gateway_jetstream_consent_total{verdict=\"resolved_present\"}")) == 1);
  // The failed ones' retries, judged against confirmed state only.
  CHECK(put(*b, consent("absent-update", consent_change::updated, t0 + 2 * second, k1)) == stored::kept);
  CHECK(put(*b, consent("absent-revoke", consent_change::revoked, t0, k3)) == stored::kept);
  CHECK(put(*b, consent("k3-late", consent_change::updated, t0 + 3 * second, k3)) == stored::after_revocation);
  a->stop();
  b->stop();
  check_each_done_once();
  client c;
  // The probes stored nothing: exactly the kept messages, once each.
  CHECK(c.ids("PENDING") == std::vector<std::string>{"k1-received", "present-update", "k1-update-older", "k3-update",
                                                     "absent-update", "absent-revoke"});
}

TEST_CASE("compare-and-set won, publish failed, then revoked: the retry is after_revocation, never published") {
  fg::jetstream_options oa = options_for("REVOKED");
  oa.test_fail_publish = [](const fg::record& r) { return r.message_id == "v-update"; };
  auto a = open_store(oa);
  auto b = open_store(options_for("REVOKED"));
  CHECK(put(*a, consent("v-update", fw::consent_change::updated, t0 + second)) == stored::unavailable);
  CHECK(put(*b, consent("v-revoke", fw::consent_change::revoked, t0)) == stored::kept);
  CHECK(put(*b, consent("v-update", fw::consent_change::updated, t0 + second)) == stored::after_revocation);
  a->stop();
  b->stop();
  check_each_done_once();
  client c;
  CHECK(c.ids("REVOKED") == std::vector<std::string>{"v-revoke"});
}

TEST_CASE("many concurrent appends from two replicas: each done once, each id once in the stream") {
  auto a = open_store(options_for("MANY"));
  auto b = open_store(options_for("MANY"));
  std::vector<std::shared_ptr<calls>> waits;
  constexpr int n = 2000;
  for (int i = 0; i < n; ++i) {
    const std::string id = "n-" + std::to_string(i % (n / 2));  // every id twice
    auto c = std::make_shared<calls>();
    ((i & 1) != 0 ? *a : *b).append(delivery(id), recorder(c));
    waits.push_back(c);
  }
  int kept = 0, duplicate = 0;
  for (auto& w : waits) {
    const stored s = wait_for(w);
    kept += s == stored::kept;
    duplicate += s == stored::duplicate;
  }
  CHECK(kept == n / 2);
  CHECK(duplicate == n / 2);
  a->stop();
  b->stop();
  check_each_done_once();
  client c;
  CHECK(c.read("MANY").size() == n / 2);
}

TEST_CASE("outage: a hung server makes appends unavailable and the store unready; recovery; a publish that "
          "timed out but landed is a duplicate on retry") {
  const std::string pid_text = env("FISKIL_NATS_PID");
  if (pid_text.empty()) {
    MESSAGE("skipped: needs the single node's pid (FISKIL_NATS_PID)");
    return;
  }
  fg::jetstream_options o = options_for("OUTAGE");
  o.ack_timeout = 700ms;
  o.max_in_flight = 3;
  auto store = open_store(o);
  CHECK(put(*store, consent("o-received", fw::consent_change::received, t0)) == stored::kept);
  {
    paused_server paused(static_cast<pid_t>(std::atoi(pid_text.c_str())));
    CHECK(put(*store, delivery("o-timed-out")) == stored::unavailable);
    CHECK_FALSE(store->ready());
    CHECK(put(*store, consent("o-updated", fw::consent_change::updated, t0 + second)) == stored::unavailable);
    // Past max_in_flight: answered at once.
    std::vector<std::shared_ptr<calls>> waits;
    for (int i = 0; i < 6; ++i) {
      auto c = std::make_shared<calls>();
      store->append(delivery("o-burst-" + std::to_string(i)), recorder(c));
      waits.push_back(c);
    }
    for (auto& w : waits) CHECK(wait_for(w) == stored::unavailable);
    CHECK(std::stoi(metric(*store, "fiskil_gateway_jetstream_publishes_total{result=\"rejected_in_flight_limit\"}")) >=
          3);
    paused.resume();
  }
  for (int i = 0; i < 200 && !store->ready(); ++i) std::this_thread::sleep_for(50ms);
  CHECK(store->ready());
  // The timed-out publish reached the stream once the server woke up.
  CHECK(put(*store, delivery("o-timed-out")) == stored::duplicate);
  CHECK(put(*store, consent("o-updated", fw::consent_change::updated, t0 + second)) == stored::kept);
  store->stop();
  check_each_done_once();
  client c;
  const auto ids = c.ids("OUTAGE");
  CHECK(std::count(ids.begin(), ids.end(), "o-timed-out") == 1);
  CHECK(std::count(ids.begin(), ids.end(), "o-updated") == 1);
}

TEST_CASE("stop answers every append in flight, once") {
  const std::string pid_text = env("FISKIL_NATS_PID");
  if (pid_text.empty()) {
    MESSAGE("skipped: needs the single node's pid (FISKIL_NATS_PID)");
    return;
  }
  fg::jetstream_options o = options_for("STOP");
  o.ack_timeout = 1000ms;
  auto store = open_store(o);
  std::vector<std::shared_ptr<calls>> waits;
  {
    paused_server paused(static_cast<pid_t>(std::atoi(pid_text.c_str())));
    for (int i = 0; i < 20; ++i) {
      auto c = std::make_shared<calls>();
      store->append(delivery("stop-" + std::to_string(i)), recorder(c));
      waits.push_back(c);
    }
    const auto started = std::chrono::steady_clock::now();
    store->stop();
    CHECK(std::chrono::steady_clock::now() - started < 10s);
    for (auto& w : waits) {
      std::lock_guard lock(w->mu);
      REQUIRE(w->seen.size() == 1);
      CHECK(w->seen[0] == stored::unavailable);
    }
  }
  auto late = std::make_shared<calls>();
  store->append(delivery("after-stop"), recorder(late));
  CHECK(wait_for(late) == stored::unavailable);
  CHECK_FALSE(store->ready());
  check_each_done_once();
}

TEST_CASE("a stream deleted under the running store: unavailable, then created again") {
  auto store = open_store(options_for("GONE"));
  CHECK(put(*store, delivery("g-1")) == stored::kept);
  {
    client c;
    REQUIRE(js_DeleteStream(c.js, "GONE", nullptr, nullptr) == NATS_OK);
  }
  CHECK(put(*store, delivery("g-2")) == stored::unavailable);
  CHECK_FALSE(store->ready());
  for (int i = 0; i < 200 && !store->ready(); ++i) std::this_thread::sleep_for(50ms);
  CHECK(store->ready());
  CHECK(put(*store, delivery("g-2")) == stored::kept);
  store->stop();
  check_each_done_once();
  client c;
  CHECK(c.ids("GONE") == std::vector<std::string>{"g-2"});
}

TEST_CASE("no server at start: not ready, unavailable, and stop is prompt") {
  fg::jetstream_options o = options_for("NOSERVER");
  o.servers = env("FISKIL_NATS_DEAD_URL", "nats://127.0.0.1:1");
  std::string error;
  auto store = fg::jetstream_store::open(o, error);
  REQUIRE(store != nullptr);
  CHECK_FALSE(store->ready());
  CHECK(put(*store, delivery("nobody")) == stored::unavailable);
  CHECK(put(*store, consent("nobody-consent", fw::consent_change::received, t0)) == stored::unavailable);
  store->stop();
  check_each_done_once();
}
