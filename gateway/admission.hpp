// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
//
// admission: the gateway's one boundary with the library's receiver. Every
// call into fw::receiver (admit, retract, key rotation, warm start,
// counters) is in admission.cpp, so that following the library's API is a
// change to one file.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "storage.hpp"

namespace fiskil::gateway {

// admission_settings are the flags admission reads.
struct admission_settings {
  std::vector<std::string> secret_files;  // newest first
  std::string allow;                      // CIDR list from --allow
  std::vector<std::string> allow_files;   // --allow-file
  std::string trusted_proxy;              // CIDR list; empty: never read X-Forwarded-For
  std::chrono::nanoseconds max_age{}, max_future_skew{};
  std::size_t message_capacity = 0, consent_capacity = 0, max_body_size = 0;
};

// verdict is admission's answer for one request. When accepted is true,
// rec holds the delivery, owned, to be appended; then settle() says what to
// answer once the store has answered.
struct verdict {
  bool accepted = false;
  std::size_t outcome = 0;  // index into admission::outcome_names()
  int status = 500;         // HTTP status
  std::string error;        // why it was refused (the errc's message); empty for 2xx
  std::optional<std::size_t> event_index;  // into admission::event_names(), once authentic and parsed
  std::optional<std::size_t> key_index;    // the secret that verified it
  // in_progress: a copy of this message_id, or (waits_for_consent) another
  // event of its consent, is in flight; rec.message_id and rec.consent_id
  // say which.
  bool in_progress = false;
  bool waits_for_consent = false;
  record rec;
  fw::delivery admitted;  // the receiver's verdict, without its event: its token is what settle retracts
};

// admission wraps one fw::receiver, its configuration files and its
// per-thread parsers. All methods are safe from any thread.
class admission {
 public:
  // create reads the secret and allow files and builds the receiver. On
  // failure returns null and says why in error (never a secret's bytes).
  static std::unique_ptr<admission> create(const admission_settings& settings, std::string& error);
  ~admission();

  // admit runs the receiver on one request with this thread's parser. peer
  // is the connection's address, 4 or 16 bytes in network order (no text
  // round trip); forwarded_for the X-Forwarded-For header
  // (empty when absent), used only when peer is a trusted proxy.
  verdict admit(std::span<const unsigned char> peer, std::string_view forwarded_for, std::string_view body,
                std::string_view signature);

  // source_allowed says whether a connection from peer (4 or 16 bytes,
  // network order) may deliver: it is a trusted proxy (its client is known
  // only once X-Forwarded-For is read, in admit) or in the allowlist in use
  // (the one SIGHUP last loaded). The server asks before reading a body.
  [[nodiscard]] bool source_allowed(std::span<const unsigned char> peer) const;

  // settle applies what the store did with an accepted verdict's record to
  // the receiver, and sets v's outcome and status to the answer: kept:
  // confirmed, accepted; duplicate: confirmed, duplicate; superseded,
  // after_revocation: that outcome (the id is confirmed, the consent change
  // dropped); unavailable: retracted (a retry is accepted afresh), 503.
  void settle(verdict& v, stored what);

  // answer_copy sets a copy's answer from how the first copy settled:
  // kept or duplicate: 200 duplicate; superseded, after_revocation: that
  // outcome; unavailable or timed out (nullopt): 503 unavailable.
  static void answer_copy(verdict& copy, std::optional<stored> first);

  // reload re-reads the secret and allow files and swaps them into the
  // running receiver (replace_keys, replace_allowlist), which keeps its
  // idempotency store and consent tracker. A file that fails keeps the old
  // configuration; error says why. Returns whether it swapped.
  bool reload(std::string& error);

  // reload_files is reload with these secret files and allowlist (from a
  // re-read --config file) instead of the ones in use; on success they
  // replace them for later reloads too.
  bool reload_files(const std::vector<std::string>& secret_files, const std::string& allow,
                    const std::vector<std::string>& allow_files, std::string& error);

  // attach gives admission the store, for warm().
  // The store must outlive admission.
  void attach(storage& store) noexcept { store_ = &store; }

  // warm loads the store's ids and consent states within the receiver's
  // retention into the receiver.
  void warm();

  // write_metrics appends the receiver's counters (evictions).
  void write_metrics(std::string& out) const;

  // retention is the receiver's max_age plus max_future_skew.
  [[nodiscard]] std::chrono::nanoseconds retention() const noexcept;

  static std::span<const std::string_view> outcome_names() noexcept;
  static std::span<const std::string_view> event_names() noexcept;
  static std::size_t accepted_outcome() noexcept;

 private:
  struct state;
  explicit admission(std::unique_ptr<state> s) noexcept;
  std::unique_ptr<state> state_;
  storage* store_ = nullptr;
};

// now_ns is the system clock in ns since the Unix epoch.
std::int64_t now_ns() noexcept;

}  // namespace fiskil::gateway
