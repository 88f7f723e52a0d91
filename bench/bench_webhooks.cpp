// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
//
// bench_webhooks: what a delivery costs, next to the two numbers that give it
// meaning. The floor is the SHA-256 work no HMAC verifier can avoid on this
// CPU with this hash code; the baseline is the verifier people write by hand
// today. Every row of a workload runs in the same process and run, so their
// ratios (computed by bench/run.py from the JSON) compare like with like.
//
// Workloads, each one delivery per iteration (the mix cycles through its 21):
//   guide     the provider guide's example, 242 bytes (no `event` field: an
//             unknown_event);
//   mix       one sample delivery of each of the 21 documented event types
//             (tests/fixtures), 269-438 bytes;
//   large     banking.balances with 200 account ids (~7 KB);
//   rejected  the guide's body under a well-formed signature of other bytes.
// Rows per workload:
//   floor            the SHA-256 compressions HMAC needs (see floor_state);
//   verify           fw::verify alone;
//   parse            fw::parser::parse alone (authenticated bytes);
//   simdjson_dom     simdjson's DOM parse of the same padded bytes, which
//                    fw::parser::parse runs inside: the rest is the library's;
//   simdjson_ondemand  simdjson's on-demand API reading the same fields
//                    (validates only what it reads; for comparison);
//   end_to_end       verify_and_parse with an fw::keyring holding the key (as
//                    the tutorial's example) + fw::dispatch to a handler that
//                    reads every field;
//   end_to_end_key   the same with the fw::signing_key overload;
//   baseline         the hand-written verifier (see baseline_handle).
// Plus sha256_bulk: the backend's SHA-256 over 64 KiB, its bulk throughput.
//
// Counters: heap_allocs and operator_new per delivery (malloc and operator
// new are replaced below and counted in the timed loop, after a warm-up),
// bytes_per_second and items_per_second (deliveries/s on one core).
//
// Usage: bench_webhooks_<backend> [--fixtures=DIR] [Google Benchmark flags].
// DIR defaults to $FISKIL_FIXTURES, then to the source tree's tests/fixtures.
// Before timing anything, every workload is cross-checked (verdicts, parsed
// fields equal to the baseline's, floor blocks reproducing the MAC); a failed
// check exits with status 1.
#include <fiskil/webhooks.hpp>

#include <benchmark/benchmark.h>
#include <nlohmann/json.hpp>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#if defined(FISKIL_WEBHOOKS_CRYPTO_BORINGSSL)
#include <openssl/base64.h>
#include <openssl/digest.h>
#endif

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <new>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "guide_example.hpp"

// ---------------------------------------------------------------------------
// Heap allocation counting: malloc and friends interposed (so that
// allocations inside OpenSSL, simdjson and the standard library count) and
// operator new replaced (counted on its own, then again as the malloc it
// makes), by the tests' own header, in its one-thread mode.
#define ALLOCATION_COUNTING_ONE_THREAD 1
#include "../tests/allocation_counting.hpp"

namespace {

namespace fw = fiskil::webhooks;
namespace sha256 = fw::detail::sha256;

using allocation_counting::counts;
using allocation_counting::snapshot;

// ---------------------------------------------------------------------------
// The floor.
//
// fw::signing_key hashes the key's two pads once, so HMAC-SHA256 of a body of
// len bytes costs, per delivery, the inner hash of the body and its padding
// (0x80, zeros, the 8-byte length: ceil((len + 9) / 64) blocks) plus one
// outer block (the 32-byte inner digest and its padding). floor_blocks holds
// those inner blocks already padded, and the floor row compresses them and
// one outer block with the backend's own block function, reached the most
// direct public way: BoringSSL's SHA256_TransformBlocks, OpenSSL's
// SHA256_Update on whole blocks (which hands them straight to
// sha256_block_data_order, with no buffering) and SHA256_Transform. No
// context copies, padding logic, byte swaps, base64, comparison or wiping:
// any verifier using this hash code does at least this much work.

#if defined(__GNUC__) || defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#endif

// floor_state chains from one delivery to the next (the chaining values do
// not change the cost of a compression).
struct floor_state {
#if defined(FISKIL_WEBHOOKS_CRYPTO_BORINGSSL)
  std::uint32_t inner[8];
  std::uint32_t outer[8];
#else
  SHA256_CTX inner;
  SHA256_CTX outer;
#endif
  alignas(64) unsigned char outer_block[64];
};

// floor_start copies the key's precomputed inner and outer states.
void floor_start(floor_state& s, const fw::signing_key& key) noexcept {
#if defined(FISKIL_WEBHOOKS_CRYPTO_BORINGSSL)
  std::memcpy(s.inner, fw::detail::key_access::inner(key).h, sizeof s.inner);
  std::memcpy(s.outer, fw::detail::key_access::outer(key).h, sizeof s.outer);
#elif defined(FISKIL_WEBHOOKS_OPENSSL_PROVIDER)
  // The library keeps the pad blocks: hash them here, outside the timing.
  SHA256_Init(&s.inner);
  SHA256_Update(&s.inner, fw::detail::key_access::inner(key).h, 64);
  SHA256_Init(&s.outer);
  SHA256_Update(&s.outer, fw::detail::key_access::outer(key).h, 64);
#else
  s.inner = fw::detail::key_access::inner(key);
  s.outer = fw::detail::key_access::outer(key);
#endif
  // The outer message is 64 + 32 bytes: 0x80 after the digest, then 768 in bits.
  std::memset(s.outer_block, 0, sizeof s.outer_block);
  s.outer_block[32] = 0x80;
  s.outer_block[62] = 0x03;
}

const std::uint32_t* floor_inner_words(const floor_state& s) noexcept {
#if defined(FISKIL_WEBHOOKS_CRYPTO_BORINGSSL)
  return s.inner;
#else
  return s.inner.h;
#endif
}
const std::uint32_t* floor_outer_words(const floor_state& s) noexcept {
#if defined(FISKIL_WEBHOOKS_CRYPTO_BORINGSSL)
  return s.outer;
#else
  return s.outer.h;
#endif
}

inline void floor_inner(floor_state& s, const unsigned char* blocks, std::size_t count) noexcept {
#if defined(FISKIL_WEBHOOKS_CRYPTO_BORINGSSL)
  SHA256_TransformBlocks(s.inner, blocks, count);
#else
  SHA256_Update(&s.inner, blocks, count * 64);
#endif
}

inline void floor_outer(floor_state& s) noexcept {
#if defined(FISKIL_WEBHOOKS_CRYPTO_BORINGSSL)
  SHA256_TransformBlocks(s.outer, s.outer_block, 1);
#else
  SHA256_Transform(&s.outer, s.outer_block);
#endif
}

// sha256_bulk hashes whole blocks into a running context: the backend's bulk rate.
struct bulk_state {
  SHA256_CTX context;
};
void bulk_start(bulk_state& s) noexcept { SHA256_Init(&s.context); }
inline void bulk_update(bulk_state& s, const unsigned char* data, std::size_t size) noexcept {
  SHA256_Update(&s.context, data, size);
}

#if defined(__GNUC__) || defined(__clang__)
#pragma GCC diagnostic pop
#endif

std::vector<unsigned char> padded_inner_message(std::string_view body) {
  const std::size_t blocks = (body.size() + 9 + 63) / 64;
  std::vector<unsigned char> message(blocks * 64, 0);
  std::memcpy(message.data(), body.data(), body.size());
  message[body.size()] = 0x80;
  // The inner message is the 64-byte ipad block followed by the body.
  const std::uint64_t bits = (64 + static_cast<std::uint64_t>(body.size())) * 8;
  for (std::size_t i = 0; i < 8; ++i)
    message[message.size() - 1 - i] = static_cast<unsigned char>(bits >> (8 * i));
  return message;
}

// floor_mac computes HMAC from exactly the floor's blocks (with the byte
// swaps the floor row leaves out): equal to the real MAC, it proves the floor
// row compresses the right blocks.
std::string floor_mac_base64(const fw::signing_key& key, std::string_view body) {
  floor_state s;
  floor_start(s, key);
  const std::vector<unsigned char> message = padded_inner_message(body);
  floor_inner(s, message.data(), message.size() / 64);
  for (std::size_t i = 0; i < 8; ++i) {
    const std::uint32_t w = floor_inner_words(s)[i];
    s.outer_block[4 * i] = static_cast<unsigned char>(w >> 24);
    s.outer_block[4 * i + 1] = static_cast<unsigned char>(w >> 16);
    s.outer_block[4 * i + 2] = static_cast<unsigned char>(w >> 8);
    s.outer_block[4 * i + 3] = static_cast<unsigned char>(w);
  }
  floor_outer(s);
  unsigned char mac[32];
  for (std::size_t i = 0; i < 8; ++i) {
    const std::uint32_t w = floor_outer_words(s)[i];
    mac[4 * i] = static_cast<unsigned char>(w >> 24);
    mac[4 * i + 1] = static_cast<unsigned char>(w >> 16);
    mac[4 * i + 2] = static_cast<unsigned char>(w >> 8);
    mac[4 * i + 3] = static_cast<unsigned char>(w);
  }
  std::string text(44, '\0');
  EVP_EncodeBlock(reinterpret_cast<unsigned char*>(text.data()), mac, sizeof mac);
  return text;
}

// ---------------------------------------------------------------------------
// The baseline: what a gateway author writes by hand today. The backend's
// one-shot HMAC() with the raw key bytes (decoded from the secret once, at
// start-up), the MAC base64-encoded into a std::string and compared with ==,
// then nlohmann::json::parse and the same fields read into std::strings, ids
// into vectors of strings, and a dispatch on the event name. publish_time is
// kept as text (the library also parses it to nanoseconds), which only
// favours the baseline. It returns the HTTP status a gateway would answer.

struct baseline_fields {
  std::string publish_time, message_id, event, end_user_id, client_id, institution_id, consent_id;
  std::vector<std::string> account_ids, payee_ids;
};

std::string baseline_string(const nlohmann::json& object, const char* name, const char* alias) {
  auto it = object.find(name);
  if (it == object.end() && alias != nullptr) it = object.find(alias);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string{};
}

void baseline_ids(const nlohmann::json& object, const char* name, std::vector<std::string>& out) {
  const auto it = object.find(name);
  if (it == object.end() || !it->is_array()) return;
  out.reserve(it->size());
  for (const auto& id : *it)
    if (id.is_string()) out.push_back(id.get<std::string>());
}

// checksum_of is what every handler computes from the fields it reads, so that
// the library's and the baseline's readings can be checked equal.
std::size_t checksum_of(const baseline_fields& f) {
  std::size_t sum = f.message_id.size() + f.event.size() + f.end_user_id.size() + f.client_id.size() +
                    f.institution_id.size() + f.consent_id.size() + (f.publish_time.empty() ? 0 : 1);
  for (const std::string& id : f.account_ids) sum += id.size() + 1;
  for (const std::string& id : f.payee_ids) sum += 2 * id.size() + 1;
  return sum;
}

int baseline_handle(const std::vector<unsigned char>& key, const std::string& body, const std::string& header,
                    std::size_t& checksum) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_size = 0;
#if defined(FISKIL_WEBHOOKS_CRYPTO_BORINGSSL)
  const std::size_t key_size = key.size();
#else
  const int key_size = static_cast<int>(key.size());
#endif
  if (HMAC(EVP_sha256(), key.data(), key_size, reinterpret_cast<const unsigned char*>(body.data()), body.size(), mac,
           &mac_size) == nullptr)
    return 500;
  std::string expected(4 * ((mac_size + 2) / 3), '\0');
  EVP_EncodeBlock(reinterpret_cast<unsigned char*>(expected.data()), mac, mac_size);
  if (expected != header) return 401;

  const nlohmann::json doc = nlohmann::json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) return 400;
  baseline_fields f;
  f.publish_time = baseline_string(doc, "publish_time", nullptr);
  f.message_id = baseline_string(doc, "message_id", nullptr);
  const auto data = doc.find("data");
  if (f.publish_time.empty() || f.message_id.empty() || data == doc.end() || !data->is_object()) return 400;
  f.event = baseline_string(*data, "event", nullptr);
  f.end_user_id = baseline_string(*data, "end_user_id", "endUserId");
  f.client_id = baseline_string(*data, "client_id", "clientId");
  f.institution_id = baseline_string(*data, "institution_id", "institutionId");
  f.consent_id = baseline_string(*data, "consent_id", "arrangementId");
  baseline_ids(*data, "account_ids", f.account_ids);
  baseline_ids(*data, "payee_ids", f.payee_ids);

  // The handler reads every field, as the library's does.
  checksum += checksum_of(f);
  return 200;
}

// ---------------------------------------------------------------------------
// The library's handler: reads every field the event type has.

struct checksum_handler {
  std::size_t& checksum;
  template <class Event>
  void operator()(const Event& e) const noexcept {
    std::size_t sum = e.message_id.size() + e.name.size() + e.end_user_id.size() + e.client_id.size() +
                      e.institution_id.size() + e.consent_id.size() +
                      (e.publish_time != fw::timestamp{} ? 1 : 0);
    if constexpr (fw::with_account_ids<Event>)
      for (const std::string_view id : e.account_ids) sum += id.size() + 1;
    if constexpr (fw::with_payee_ids<Event>)
      for (const std::string_view id : e.payee_ids) sum += 2 * id.size() + 1;
    checksum += sum;
  }
};

// ---------------------------------------------------------------------------
// simdjson on-demand reading the same fields, for comparison with the DOM.

std::size_t ondemand_checksum(simdjson::ondemand::parser& parser, const simdjson::padded_string& text) {
  namespace od = simdjson::ondemand;
  od::document doc;
  if (parser.iterate(text).get(doc) != simdjson::SUCCESS) return 0;
  od::object root;
  if (doc.get_object().get(root) != simdjson::SUCCESS) return 0;
  std::size_t sum = 0;
  const auto ids = [&sum](auto value, std::size_t weight) {
    od::array array;
    if (value.get_array().get(array) != simdjson::SUCCESS) return;
    for (auto element : array) {
      std::string_view id;
      if (element.get_string().get(id) == simdjson::SUCCESS) sum += weight * id.size() + 1;
    }
  };
  for (auto member : root) {
    std::string_view key;
    if (member.unescaped_key().get(key) != simdjson::SUCCESS) return 0;
    std::string_view text_value;
    if (key == "publish_time") {
      if (member.value().get_string().get(text_value) == simdjson::SUCCESS) sum += 1;
    } else if (key == "message_id") {
      if (member.value().get_string().get(text_value) == simdjson::SUCCESS) sum += text_value.size();
    } else if (key == "data") {
      od::object data;
      if (member.value().get_object().get(data) != simdjson::SUCCESS) return 0;
      for (auto field : data) {
        std::string_view name;
        if (field.unescaped_key().get(name) != simdjson::SUCCESS) return 0;
        if (name == "account_ids") {
          ids(field.value(), 1);
        } else if (name == "payee_ids") {
          ids(field.value(), 2);
        } else if (name == "event" || name == "end_user_id" || name == "endUserId" || name == "client_id" ||
                   name == "clientId" || name == "institution_id" || name == "institutionId" ||
                   name == "consent_id" || name == "arrangementId") {
          if (field.value().get_string().get(text_value) == simdjson::SUCCESS) sum += text_value.size();
        }
      }
    }
  }
  return sum;
}

// ---------------------------------------------------------------------------
// Workloads.

struct delivery {
  std::string name;
  std::string body;
  std::string header;
  simdjson::padded_string padded;             // the body with simdjson's padding
  std::vector<unsigned char> floor_blocks;    // the body padded to the inner blocks
  std::size_t inner_blocks = 0;
};

struct workload {
  std::string name;
  std::string description;
  std::vector<delivery> deliveries;
  fw::keyring keys;                     // one key
  std::vector<unsigned char> key_bytes;  // the same key, raw, for the baseline
  bool authentic = true;
  [[nodiscard]] const fw::signing_key& key() const { return keys.keys()[0]; }
};

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "bench_webhooks: cannot read %s\n", path.c_str());
    std::exit(1);
  }
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string trim(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) text.pop_back();
  return text;
}

std::vector<unsigned char> decode_secret(std::string_view secret_b64) {
  std::vector<unsigned char> out(secret_b64.size());
#if defined(FISKIL_WEBHOOKS_CRYPTO_BORINGSSL)
  const std::size_t text_size = secret_b64.size();
#else
  const int text_size = static_cast<int>(secret_b64.size());
#endif
  const int size = EVP_DecodeBlock(out.data(), reinterpret_cast<const unsigned char*>(secret_b64.data()), text_size);
  if (size < 0) {
    std::fprintf(stderr, "bench_webhooks: bad secret\n");
    std::exit(1);
  }
  std::size_t n = static_cast<std::size_t>(size);
  // EVP_DecodeBlock counts the bytes of '=' padding as zeros.
  for (std::size_t i = secret_b64.size(); i > 0 && secret_b64[i - 1] == '='; --i) --n;
  out.resize(n);
  return out;
}

delivery make_delivery(std::string name, std::string body, std::string header) {
  delivery d;
  d.name = std::move(name);
  d.body = std::move(body);
  d.header = std::move(header);
  d.padded = simdjson::padded_string(d.body);
  d.floor_blocks = padded_inner_message(d.body);
  d.inner_blocks = d.floor_blocks.size() / 64;
  return d;
}

void set_key(workload& w, std::string_view secret_b64) {
  const fw::result<fw::signing_key> key = fw::signing_key::from_base64(secret_b64);
  if (!key) {
    std::fprintf(stderr, "bench_webhooks: %s: secret refused\n", w.name.c_str());
    std::exit(1);
  }
  w.keys = fw::keyring{*key};
  w.key_bytes = decode_secret(secret_b64);
}

std::vector<workload> load_workloads(const std::string& fixtures) {
  std::vector<workload> out;

  workload guide;
  guide.name = "guide";
  guide.description = "the provider guide's example (242 B, no event field)";
  set_key(guide, bench_fixture::guide_secret);
  guide.deliveries.push_back(make_delivery("guide", std::string(bench_fixture::guide_body),
                                           std::string(bench_fixture::guide_signature)));

  workload rejected;
  rejected.name = "rejected";
  rejected.description = "the guide's body under a well-formed signature of other bytes";
  set_key(rejected, bench_fixture::guide_secret);
  rejected.authentic = false;
  const std::string other = std::string(bench_fixture::guide_body) + " ";
  rejected.deliveries.push_back(make_delivery("rejected", std::string(bench_fixture::guide_body),
                                              std::string(fw::sign(rejected.key(), other).view())));

  // The fixtures: manifest.tsv is name, event, signature, ...
  const std::string secret = trim(read_file(fixtures + "/secret.b64"));
  workload mix;
  mix.name = "mix";
  mix.description = "one delivery of each of the 21 documented event types";
  set_key(mix, secret);
  workload large;
  large.name = "large";
  large.description = "banking.balances with 200 account ids";
  set_key(large, secret);

  std::istringstream manifest(read_file(fixtures + "/manifest.tsv"));
  std::string line;
  std::getline(manifest, line);  // header
  std::vector<bool> seen(fw::detail::documented_event_count, false);
  while (std::getline(manifest, line)) {
    std::istringstream cells(line);
    std::string name, event, signature;
    std::getline(cells, name, '\t');
    std::getline(cells, event, '\t');
    std::getline(cells, signature, '\t');
    if (name.empty()) continue;
    if (name == "large_200_accounts")
      large.deliveries.push_back(make_delivery(name, read_file(fixtures + "/" + name + ".json"), signature));
    const std::size_t index = fw::detail::event_index(event);
    if (index == fw::detail::unknown_event_index || seen[index]) continue;
    seen[index] = true;
    mix.deliveries.push_back(make_delivery(name, read_file(fixtures + "/" + name + ".json"), signature));
  }
  if (mix.deliveries.size() != fw::detail::documented_event_count || large.deliveries.size() != 1) {
    std::fprintf(stderr, "bench_webhooks: %s: expected one sample per documented event (%zu, found %zu) and large_200_accounts\n",
                 fixtures.c_str(), fw::detail::documented_event_count, mix.deliveries.size());
    std::exit(1);
  }
  out.push_back(std::move(guide));
  out.push_back(std::move(mix));
  out.push_back(std::move(large));
  out.push_back(std::move(rejected));
  return out;
}

// One parser of each kind for the whole run, as a gateway keeps one per thread.
fw::parser& library_parser() {
  static fw::parser parser;
  return parser;
}
simdjson::dom::parser& dom_parser() {
  static simdjson::dom::parser parser;
  return parser;
}
simdjson::ondemand::parser& ondemand_parser() {
  static simdjson::ondemand::parser parser;
  return parser;
}

// ---------------------------------------------------------------------------
// Cross-checks, before timing anything.

bool check_workloads(const std::vector<workload>& workloads) {
  bool ok = true;
  const auto fail = [&ok](const workload& w, const delivery& d, const char* what) {
    std::fprintf(stderr, "bench_webhooks: check failed: %s/%s: %s\n", w.name.c_str(), d.name.c_str(), what);
    ok = false;
  };
  for (const workload& w : workloads) {
    for (const delivery& d : w.deliveries) {
      if (d.inner_blocks != (d.body.size() + 9 + 63) / 64) fail(w, d, "floor block count");
      const std::string good_signature(fw::sign(w.key(), d.body).view());
      if (floor_mac_base64(w.key(), d.body) != good_signature) fail(w, d, "floor blocks do not reproduce the MAC");
      const std::error_code verdict = fw::verify(w.key(), d.body, d.header).error();
      if (w.authentic != !verdict) fail(w, d, "fw::verify verdict");
      std::size_t baseline_sum = 0;
      const int status = baseline_handle(w.key_bytes, d.body, d.header, baseline_sum);
      if (status != (w.authentic ? 200 : 401)) fail(w, d, "baseline verdict");
      std::size_t library_sum = 0;
      const fw::result<fw::verified_event> ev = library_parser().verify_and_parse(w.keys, d.body, d.header);
      if (ev.has_value() != w.authentic) fail(w, d, "verify_and_parse verdict");
      if (!w.authentic) continue;
      if (!fw::dispatch(ev->event, checksum_handler{library_sum})) fail(w, d, "not dispatched");
      if (library_sum != baseline_sum || library_sum == 0) fail(w, d, "library and baseline read different fields");
      if (!library_parser().parse(d.body).has_value()) fail(w, d, "parse");
      simdjson::dom::element root;
      if (dom_parser().parse(d.padded).get(root) != simdjson::SUCCESS) fail(w, d, "simdjson DOM");
      if (ondemand_checksum(ondemand_parser(), d.padded) != library_sum) fail(w, d, "simdjson on-demand fields");
    }
  }
  return ok;
}

// ---------------------------------------------------------------------------
// Running one row: one delivery per iteration, cycling through the workload.

template <class Op>
void run_rows(benchmark::State& state, const workload& w, Op&& op) {
  const std::vector<delivery>& deliveries = w.deliveries;
  for (const delivery& d : deliveries) op(d);  // warm-up: storage reserved, code and data in cache
  std::size_t next = 0;
  std::int64_t bytes = 0;
  const counts before = snapshot();
  for (auto _ : state) {
    const delivery& d = deliveries[next];
    if (++next == deliveries.size()) next = 0;
    bytes += static_cast<std::int64_t>(d.body.size());
    op(d);
  }
  const counts after = snapshot();
  state.SetBytesProcessed(bytes);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.counters["heap_allocs"] =
      benchmark::Counter(static_cast<double>(after.mallocs - before.mallocs), benchmark::Counter::kAvgIterations);
  state.counters["operator_new"] =
      benchmark::Counter(static_cast<double>(after.news - before.news), benchmark::Counter::kAvgIterations);
  double blocks = 0;
  for (const delivery& d : deliveries) blocks += static_cast<double>(d.inner_blocks + 1);
  state.counters["sha256_blocks"] = blocks / static_cast<double>(deliveries.size());
}

void register_rows(const workload& w) {
  const std::string prefix = w.name + "/";
  const auto add = [&](const char* row, auto&& body) {
    benchmark::RegisterBenchmark((prefix + row).c_str(), body);
  };

  add("floor", [&w](benchmark::State& state) {
    floor_state s;
    floor_start(s, w.key());
    run_rows(state, w, [&s](const delivery& d) {
      floor_inner(s, d.floor_blocks.data(), d.inner_blocks);
      std::memcpy(s.outer_block, floor_inner_words(s), 32);
      floor_outer(s);
      benchmark::DoNotOptimize(s);
    });
  });
  add("verify", [&w](benchmark::State& state) {
    run_rows(state, w, [&w](const delivery& d) {
      const std::error_code verdict = fw::verify(w.key(), d.body, d.header).error();
      benchmark::DoNotOptimize(verdict);
    });
  });
  if (w.authentic) {
    add("parse", [&w](benchmark::State& state) {
      run_rows(state, w, [](const delivery& d) {
        fw::result<fw::event> ev = library_parser().parse(d.body);
        benchmark::DoNotOptimize(ev);
      });
    });
    add("simdjson_dom", [&w](benchmark::State& state) {
      run_rows(state, w, [](const delivery& d) {
        simdjson::dom::element root;
        const simdjson::error_code status = dom_parser().parse(d.padded).get(root);
        benchmark::DoNotOptimize(status);
        benchmark::DoNotOptimize(root);
      });
    });
    add("simdjson_ondemand", [&w](benchmark::State& state) {
      run_rows(state, w, [](const delivery& d) {
        std::size_t sum = ondemand_checksum(ondemand_parser(), d.padded);
        benchmark::DoNotOptimize(sum);
      });
    });
  }
  add("end_to_end_key", [&w](benchmark::State& state) {
    std::size_t checksum = 0;
    run_rows(state, w, [&w, &checksum](const delivery& d) {
      const fw::result<fw::event> ev = library_parser().verify_and_parse(w.key(), d.body, d.header);
      if (!ev) {
        checksum += static_cast<std::size_t>(ev.error().value());
        return;
      }
      fw::dispatch(*ev, checksum_handler{checksum});
    });
    benchmark::DoNotOptimize(checksum);
  });
  add("end_to_end", [&w](benchmark::State& state) {
    std::size_t checksum = 0;
    run_rows(state, w, [&w, &checksum](const delivery& d) {
      const fw::result<fw::verified_event> ev = library_parser().verify_and_parse(w.keys, d.body, d.header);
      if (!ev) {
        checksum += static_cast<std::size_t>(ev.error().value());
        return;
      }
      fw::dispatch(ev->event, checksum_handler{checksum});
    });
    benchmark::DoNotOptimize(checksum);
  });
  add("baseline", [&w](benchmark::State& state) {
    std::size_t checksum = 0;
    run_rows(state, w, [&w, &checksum](const delivery& d) {
      int status = baseline_handle(w.key_bytes, d.body, d.header, checksum);
      benchmark::DoNotOptimize(status);
    });
    benchmark::DoNotOptimize(checksum);
  });
}

void register_bulk() {
  benchmark::RegisterBenchmark("sha256_bulk/64KiB", [](benchmark::State& state) {
    static std::vector<unsigned char> data(64 << 10, 0xa5);
    bulk_state s;
    bulk_start(s);
    for (auto _ : state) {
      bulk_update(s, data.data(), data.size());
      benchmark::DoNotOptimize(s);
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(data.size()));
  });
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  std::string fixtures;
  if (const char* env = std::getenv("FISKIL_FIXTURES"); env != nullptr && *env != '\0') fixtures = env;
#if defined(FISKIL_BENCH_FIXTURES)
  if (fixtures.empty()) fixtures = FISKIL_BENCH_FIXTURES;
#endif
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg.rfind("--fixtures=", 0) == 0) {
      fixtures = std::string(arg.substr(11));
    } else {
      std::fprintf(stderr, "bench_webhooks: unknown argument %s\n", argv[i]);
      return 2;
    }
  }

  static const std::vector<workload> workloads = load_workloads(fixtures);
  if (!check_workloads(workloads)) return 1;

  benchmark::AddCustomContext("crypto_backend", std::string(sha256::backend_name));
  benchmark::AddCustomContext("library_version", FISKIL_WEBHOOKS_VERSION_STRING);
#define FISKIL_BENCH_STRING(x) #x
#define FISKIL_BENCH_EXPANDED_STRING(x) FISKIL_BENCH_STRING(x)
  benchmark::AddCustomContext("simdjson_version", FISKIL_BENCH_EXPANDED_STRING(SIMDJSON_VERSION));
  benchmark::AddCustomContext("simdjson_implementation",
                              std::string(simdjson::get_active_implementation()->name()));
#if defined(__clang__)
  benchmark::AddCustomContext("compiler", "clang++ " __clang_version__);
#elif defined(__GNUC__)
  benchmark::AddCustomContext("compiler", "g++ " __VERSION__);
#endif
#if defined(__OPTIMIZE__)
  benchmark::AddCustomContext("optimized", "true");
#else
  benchmark::AddCustomContext("optimized", "false");
#endif
  std::ostringstream sizes;
  for (const workload& w : workloads) {
    std::size_t bytes = 0;
    for (const delivery& d : w.deliveries) bytes += d.body.size();
    sizes << (sizes.tellp() > 0 ? "," : "") << w.name << ':' << bytes / w.deliveries.size();
    benchmark::AddCustomContext("workload_" + w.name, w.description);
  }
  benchmark::AddCustomContext("mean_body_bytes", sizes.str());

  for (const workload& w : workloads) register_rows(w);
  register_bulk();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
