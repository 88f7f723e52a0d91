// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
//
// A statistical timing test in the style of dudect (Reparaz, Balasch and
// Verbauwhede, "Dude, is my code constant time?", 2017): time many calls
// from two classes of input, interleaved at random, and compare the two
// timing distributions with Welch's t-test. |t| above 4.5 is dudect's
// threshold for "the classes are distinguishable": a leak. A benchmark-like
// tool, not a pass/fail test (timings depend on the machine and its load);
// docs/hardening.md records its figures.
//
//   tests/ct/dudect [--samples N] [--rounds R]   (defaults: 2000000, 5)
//
// Tests:
//  1. verify under key A, headers matching A's MAC in all but the last byte
//     (the longest prefix a short-circuit compare would walk) vs headers
//     built the same way from key B's MAC (so the two classes look alike
//     and differ only in their relation to the secret);
//  2. verify with one key vs another (same body and header);
//  3. a keyring {B, A}, the headers of test 1;
//  4. for information: headers that share a long prefix vs random headers,
//     under a key neither is related to. A difference here comes from the
//     public text of the header (the decoder's work on it), not a secret;
//  5. the control: a hand-written early-exit comparison of header strings,
//     which leaks; it shows the test has the power to see a leak this size.
#include <fiskil/webhooks.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <vector>

#if defined(__x86_64__)
#include <x86intrin.h>
#endif

namespace fw = fiskil::webhooks;

namespace {

std::uint64_t ticks() {
#if defined(__x86_64__)
  unsigned int aux;
  _mm_lfence();
  const std::uint64_t t = __rdtscp(&aux);
  _mm_lfence();
  return t;
#else
  return static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
#endif
}

struct welch {
  double n[2] = {0, 0}, mean[2] = {0, 0}, m2[2] = {0, 0};
  void add(int cls, double x) {
    n[cls] += 1;
    const double delta = x - mean[cls];
    mean[cls] += delta / n[cls];
    m2[cls] += delta * (x - mean[cls]);
  }
  [[nodiscard]] double t() const {
    const double v0 = m2[0] / (n[0] - 1), v1 = m2[1] / (n[1] - 1);
    return (mean[0] - mean[1]) / std::sqrt(v0 / n[0] + v1 / n[1]);
  }
};

struct outcome {
  double t_raw;        // every measurement
  double t_cropped;    // the largest |t| over measurements below the 50th..99th percentiles
  double percentile;   // the cut that gave t_cropped
  double mean[2];      // ticks, below the 99th percentile
};

// measure assigns each of `samples` calls a random class. Before the clock
// starts, prepare(cls, i, slot) writes that call's input into one fixed
// slot, so both classes are read from the same addresses and choosing by
// class is not timed (as dudect's prepare_inputs does); run(slot) is timed.
template <class Slot, class Prepare, class Run>
outcome measure(std::size_t samples, std::mt19937_64& rng, Slot& slot, Prepare prepare, Run run) {
  std::vector<std::uint8_t> classes(samples);
  for (auto& c : classes) c = static_cast<std::uint8_t>(rng() & 1);
  std::vector<std::uint64_t> times(samples);
  for (std::size_t i = 0; i < samples; ++i) {
    prepare(classes[i], i, slot);
#if defined(__x86_64__)
    _mm_mfence();  // drain the preparation's stores before the clock starts
#endif
    const std::uint64_t start = ticks();
    run(slot);
    times[i] = ticks() - start;
  }
  // dudect drops a warm-up and crops the long tail (interrupts, frequency
  // changes), which is noise the same for both classes, at several cuts.
  const std::size_t warm_up = samples / 100;
  std::vector<std::uint64_t> sorted(times.begin() + static_cast<std::ptrdiff_t>(warm_up), times.end());
  std::sort(sorted.begin(), sorted.end());
  outcome out{};
  welch raw;
  for (std::size_t i = warm_up; i < samples; ++i) raw.add(classes[i], static_cast<double>(times[i]));
  out.t_raw = raw.t();
  for (const double percentile : {0.5, 0.75, 0.9, 0.95, 0.99}) {
    const std::uint64_t cut = sorted[static_cast<std::size_t>(percentile * static_cast<double>(sorted.size() - 1))];
    welch cropped;
    for (std::size_t i = warm_up; i < samples; ++i) {
      if (times[i] <= cut) cropped.add(classes[i], static_cast<double>(times[i]));
    }
    if (std::fabs(cropped.t()) > std::fabs(out.t_cropped)) {
      out.t_cropped = cropped.t();
      out.percentile = percentile;
    }
    if (percentile == 0.99) {
      out.mean[0] = cropped.mean[0];
      out.mean[1] = cropped.mean[1];
    }
  }
  return out;
}

void report(const char* name, const outcome& o) {
  const auto flag = [](double t) { return std::fabs(t) > 4.5 ? "LEAK?" : "ok"; };
  std::printf("%-58s t = %8.2f %-5s  max |t| cropped = %8.2f (p%02.0f) %-5s  mean ticks %.1f / %.1f\n", name, o.t_raw,
              flag(o.t_raw), o.t_cropped, o.percentile * 100, flag(o.t_cropped), o.mean[0], o.mean[1]);
}

// ns_per_tick compares the tick counter with the steady clock over 100 ms.
double ns_per_tick() {
  const auto wall_start = std::chrono::steady_clock::now();
  const std::uint64_t tick_start = ticks();
  while (std::chrono::steady_clock::now() - wall_start < std::chrono::milliseconds(100)) {
  }
  const std::uint64_t tick_end = ticks();
  const double ns = static_cast<double>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - wall_start).count());
  return ns / static_cast<double>(tick_end - tick_start);
}

std::string base64_of(const unsigned char* bytes, std::size_t n) {
  std::string text(fw::detail::base64::encoded_size(n), '?');
  fw::detail::base64::encode(bytes, n, text.data());
  return text;
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t samples = 2'000'000;
  int rounds = 5;
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--samples") == 0) samples = std::strtoull(argv[i + 1], nullptr, 10);
    if (std::strcmp(argv[i], "--rounds") == 0) rounds = std::max(1, std::atoi(argv[i + 1]));
  }
  if (samples < 1000) samples = 1000;
  std::mt19937_64 rng(20261120);

  const std::string body =
      R"({"publish_time":"2026-11-20T09:15:00.123Z","message_id":"7000000000000001",)"
      R"("data":{"event":"consent.revoked","consent_id":"c0a5e5e0-0000-4000-8000-000000000003",)"
      R"("client_id":"2fwTestClient00000000000001","end_user_id":"2fwEndUser00000000000000003","institution_id":"3"}})";
  const fw::signing_key key = *fw::signing_key::from_base64("IhLQ/oys9Bku+gmxsTXozVr6eFFLzu8AI2iUcZyljc96th0cvnMzBPYwr50CNvQu");
  const fw::signing_key other = *fw::signing_key::from_base64("Zmlza2lsLXdlYmhvb2tzLXJvdGF0aW9uLXRlc3Qta2V5LZgIkr5tOzZxGQ==");

  const std::size_t pool = 4096;
  // Headers that match a MAC in all but its last byte: near_a for key A's
  // MAC of the body, near_b for key B's. Both sets look alike (4096 strings
  // sharing 41 characters), so they differ only in how much of key A's MAC
  // they match: 31 bytes, or (almost always) none. random: random MACs.
  const auto near_mac = [&](const fw::signing_key& k) {
    unsigned char mac[fw::mac_size];
    fw::detail::compute_mac(k, body, mac);
    std::vector<std::string> headers;
    for (std::size_t i = 0; i < pool; ++i) {
      unsigned char forged[fw::mac_size];
      std::memcpy(forged, mac, sizeof forged);
      forged[fw::mac_size - 1] = static_cast<unsigned char>(mac[fw::mac_size - 1] ^ (1 + rng() % 255));
      headers.push_back(base64_of(forged, sizeof forged));
    }
    return headers;
  };
  const std::vector<std::string> near_a = near_mac(key), near_b = near_mac(other);
  std::vector<std::string> random(pool);
  for (auto& header : random) {
    unsigned char bytes[fw::mac_size];
    for (auto& b : bytes) b = static_cast<unsigned char>(rng());
    header = base64_of(bytes, sizeof bytes);
  }
  const std::string truth(fw::sign(key, body).view());

  std::printf("dudect-style Welch t-test, %zu measurements per test (|t| > 4.5: distinguishable), %s, "
              "1 tick = %.3f ns\n",
              samples, fw::detail::sha256::backend_name.data(), ns_per_tick());
  volatile int sink = 0;
  using header_text = std::array<char, fw::signature_size>;
  const auto copy_header = [](const std::string& from, header_text& to) { std::memcpy(to.data(), from.data(), to.size()); };
  const auto view = [](const header_text& h) { return std::string_view{h.data(), h.size()}; };
  header_text header{};
  // The input of each class is copied to a scratch pair, then the one of
  // the call's class to the fixed slot, by indexing rather than a branch:
  // preparation then touches the same memory and takes the same branches
  // whatever the class, so it leaves no class-dependent trace (cache lines,
  // branch history) for the timed code to inherit. Without this, runs showed
  // |t| up to 50 whose sign changed from run to run (the memory layout).
  // Each candidate has a cache line of its own, so reading either is the
  // same work (a candidate straddling two lines measurably was not).
  struct alignas(64) scratch_line {
    header_text text;
  };
  scratch_line scratch[2]{};
  const auto pick_from = [&](const std::vector<std::string>& class0, const std::vector<std::string>& class1) {
    return [&, c0 = &class0, c1 = &class1](int cls, std::size_t i, header_text& to) {
      copy_header((*c0)[i % pool], scratch[0].text);
      copy_header((*c1)[i % pool], scratch[1].text);
      // Both candidates are read, whatever the class: a masked select, so
      // the instructions and addresses are the same for both classes.
      const auto mask = static_cast<char>(-(cls & 1));
      for (std::size_t k = 0; k < to.size(); ++k)
        to[k] = static_cast<char>((scratch[1].text[k] & mask) | (scratch[0].text[k] & ~mask));
    };
  };
  const auto pick_near = pick_from(near_a, near_b);
  fw::signing_key slot_key = key;
  const fw::keyring ring{other, key};
  unsigned char mac_a[fw::mac_size];
  fw::detail::compute_mac(key, body, mac_a);
  header_text fixed_header{};
  copy_header(random[0], fixed_header);

  struct test {
    const char* name;
    std::function<outcome()> run;
    std::vector<outcome> rounds;
  };
  std::vector<test> tests;
  tests.push_back({"1 verify under key A: MAC-prefix-matching vs not", [&] {
                     return measure(samples, rng, header, pick_near, [&](const header_text& h) {
                       sink = sink + fw::verify(key, body, view(h)).error().value();
                     });
                   }, {}});
  tests.push_back({"2 verify: key A vs key B (same body and header)", [&] {
                     return measure(
                         samples, rng, slot_key,
                         [&, keys = std::array{key, other}](int cls, std::size_t, fw::signing_key& to) {
                           to = keys[static_cast<std::size_t>(cls)];
                         },
                         [&](const fw::signing_key& k) { sink = sink + fw::verify(k, body, view(fixed_header)).error().value(); });
                   }, {}});
  tests.push_back({"3 keyring {B, A}: the headers of test 1", [&] {
                     return measure(samples, rng, header, pick_near, [&](const header_text& h) {
                       sink = sink + fw::verify(ring, body, view(h)).error().value();
                     });
                   }, {}});
  tests.push_back({"4 information: near-MAC vs random headers, no secret", [&] {
                     return measure(samples, rng, header, pick_from(near_b, random), [&](const header_text& h) {
                       sink = sink + fw::verify(key, body, view(h)).error().value();
                     });
                   }, {}});
  tests.push_back({"5 decode + CRYPTO_memcmp alone, the headers of test 1", [&] {
                     return measure(samples, rng, header, pick_near, [&](const header_text& h) {
                       unsigned char expected[fw::mac_size];
                       (void)fw::detail::base64::decode(view(h), expected, sizeof expected);
                       sink = sink + fw::detail::sha256::compare(mac_a, expected, fw::mac_size);
                     });
                   }, {}});
  tests.push_back({"6 control, leaky: early-exit compare of headers", [&] {
                     return measure(samples, rng, header, pick_near, [&](const header_text& h) {
                       std::size_t k = 0;
                       while (k < truth.size() && truth[k] == h[k]) ++k;
                       sink = sink + static_cast<int>(k == truth.size());
                     });
                   }, {}});

  for (int round = 1; round <= rounds; ++round) {
    std::printf("round %d of %d\n", round, rounds);
    for (test& t : tests) {
      t.rounds.push_back(t.run());
      report(t.name, t.rounds.back());
    }
  }
  // A leak has one direction: the same class is slower in every round. An
  // artifact of the machine or the memory layout changes sign from run to
  // run. The median keeps one unlucky round from deciding.
  std::printf("\nsummary over %d rounds: median max|t| cropped, sign of t per round, mean difference in ticks\n",
              rounds);
  for (const test& t : tests) {
    std::vector<double> magnitudes;
    std::string signs;
    double difference = 0;
    for (const outcome& o : t.rounds) {
      magnitudes.push_back(std::fabs(o.t_cropped));
      signs += o.t_cropped >= 0 ? '+' : '-';
      difference += (o.mean[0] - o.mean[1]) / static_cast<double>(t.rounds.size());
    }
    std::sort(magnitudes.begin(), magnitudes.end());
    std::printf("%-58s median |t| = %8.2f  signs %s  difference %+.2f ticks\n", t.name,
                magnitudes[magnitudes.size() / 2], signs.c_str(), difference);
  }
  return 0;
}
