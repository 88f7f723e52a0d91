// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
//
// A statistical timing test in the style of dudect (Reparaz, Balasch and
// Verbauwhede, "Dude, is my code constant time?", 2017): time many calls
// from two classes of input, interleaved at random, and compare the two
// timing distributions with Welch's t-test. |t| above 4.5 is dudect's
// threshold for "the classes are distinguishable": a leak. A benchmark-like
// tool, not a pass/fail test (timings depend on the machine and its load);
// the README records its figures.
//
//   tests/ct/dudect [--samples N]
//
// Tests:
//  1. verify, a signature matching the MAC in all but its last byte (the
//     longest prefix a short-circuit compare would walk) vs a random one;
//  2. verify with one key vs another (same body and header);
//  3. the control: a hand-written early-exit comparison of header strings,
//     which leaks; it shows the test has the power to see a leak this size.
#include <fiskil/webhooks.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
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
  double mean[2];      // ticks, below the 99th percentile
};

// measure calls run(cls, i) for random classes and returns the t statistics.
template <class Run>
outcome measure(std::size_t samples, std::mt19937_64& rng, Run run) {
  std::vector<std::uint8_t> classes(samples);
  for (auto& c : classes) c = static_cast<std::uint8_t>(rng() & 1);
  std::vector<std::uint64_t> times(samples);
  for (std::size_t i = 0; i < samples; ++i) {
    const std::uint64_t start = ticks();
    run(classes[i], i);
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
    if (std::fabs(cropped.t()) > std::fabs(out.t_cropped)) out.t_cropped = cropped.t();
    if (percentile == 0.99) {
      out.mean[0] = cropped.mean[0];
      out.mean[1] = cropped.mean[1];
    }
  }
  return out;
}

void report(const char* name, const outcome& o) {
  std::printf("%-58s t = %8.2f  max |t| cropped = %7.2f  mean ticks %.1f / %.1f  %s\n", name, o.t_raw, o.t_cropped,
              o.mean[0], o.mean[1], std::fabs(o.t_cropped) > 4.5 || std::fabs(o.t_raw) > 4.5 ? "LEAK?" : "ok");
}

std::string base64_of(const unsigned char* bytes, std::size_t n) {
  std::string text(fw::detail::base64::encoded_size(n), '?');
  fw::detail::base64::encode(bytes, n, text.data());
  return text;
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t samples = 2'000'000;
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--samples") == 0) samples = std::strtoull(argv[i + 1], nullptr, 10);
  }
  if (samples < 1000) samples = 1000;
  std::mt19937_64 rng(20261120);

  const std::string body =
      R"({"publish_time":"2026-11-20T09:15:00.123Z","message_id":"7000000000000001",)"
      R"("data":{"event":"consent.revoked","consent_id":"c0a5e5e0-0000-4000-8000-000000000003",)"
      R"("client_id":"2fwTestClient00000000000001","end_user_id":"2fwEndUser00000000000000003","institution_id":"3"}})";
  const fw::signing_key key = *fw::signing_key::from_base64("IhLQ/oys9Bku+gmxsTXozVr6eFFLzu8AI2iUcZyljc96th0cvnMzBPYwr50CNvQu");
  const fw::signing_key other = *fw::signing_key::from_base64("Zmlza2lsLXdlYmhvb2tzLXJvdGF0aW9uLXRlc3Qta2V5LZgIkr5tOzZxGQ==");

  // Class 0: the true MAC with its last byte changed. Class 1: random MACs.
  unsigned char mac[fw::mac_size];
  fw::detail::compute_mac(key, body, mac);
  const std::size_t pool = 4096;
  std::vector<std::string> near(pool), random(pool);
  for (std::size_t i = 0; i < pool; ++i) {
    unsigned char forged[fw::mac_size];
    std::memcpy(forged, mac, sizeof forged);
    forged[fw::mac_size - 1] = static_cast<unsigned char>(mac[fw::mac_size - 1] ^ (1 + rng() % 255));
    near[i] = base64_of(forged, sizeof forged);
    for (auto& b : forged) b = static_cast<unsigned char>(rng());
    random[i] = base64_of(forged, sizeof forged);
  }
  const std::string truth = base64_of(mac, sizeof mac);

  std::printf("dudect-style Welch t-test, %zu measurements per test (|t| > 4.5: distinguishable), %s\n", samples,
              fw::detail::sha256::backend_name.data());
  volatile int sink = 0;
  report("verify: MAC-prefix-matching vs random signature",
         measure(samples, rng, [&](int cls, std::size_t i) {
           const std::string& header = cls == 0 ? near[i % pool] : random[i % pool];
           sink = sink + static_cast<int>(fw::verify(key, body, header).value());
         }));
  const std::string header = random[0];
  report("verify: key A vs key B (same body, same header)",
         measure(samples, rng, [&](int cls, std::size_t) {
           sink = sink + static_cast<int>(fw::verify(cls == 0 ? key : other, body, header).value());
         }));
  report("control, leaky: early-exit compare of header strings",
         measure(samples, rng, [&](int cls, std::size_t i) {
           const std::string& forged = cls == 0 ? near[i % pool] : random[i % pool];
           const std::string expected(fw::sign(key, body).view());
           std::size_t k = 0;
           while (k < expected.size() && expected[k] == forged[k]) ++k;
           sink = sink + static_cast<int>(k == expected.size());
         }));
  (void)truth;
  return 0;
}
