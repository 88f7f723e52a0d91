// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
//
// tls_context: the HTTPS listener's TLS settings (TLS 1.2 and later, ECDHE
// with AEAD ciphers only for 1.2), its certificate and key, reloaded on
// SIGHUP. docs/gateway.md, "Secrets and TLS".
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include <boost/asio/ssl/context.hpp>

namespace fiskil::gateway {

// tls_cipher_list is the TLS 1.2 cipher list: ECDHE key exchange with
// AES-GCM or ChaCha20-Poly1305 only (TLS 1.3's suites are all AEAD).
inline constexpr const char* tls_cipher_list =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

// tls_context holds the context that new connections use. Thread-safe.
class tls_context {
 public:
  // load builds a context from the PEM certificate chain and key files and
  // puts it in service. On failure (error names the file and the reason)
  // the context in service, if any, is kept. Connections keep the context
  // they started with (current() shares ownership).
  bool load(const std::string& cert, const std::string& key, std::string& error);

  // current is the context in service; null before a successful load.
  [[nodiscard]] std::shared_ptr<boost::asio::ssl::context> current() const;

  // expiry is the served certificate's notAfter in seconds since the Unix
  // epoch (0 before a successful load).
  [[nodiscard]] std::int64_t expiry() const;

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<boost::asio::ssl::context> context_;
  std::int64_t expiry_ = 0;
};

// note_tls_handshake_failure logs a failed TLS handshake with the peer and
// the reason, at most one line a second (the next line carries
// suppressed=N, the failures left out since).
void note_tls_handshake_failure(const std::string& peer, const std::string& reason);

}  // namespace fiskil::gateway
