// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
#include "tls_context.hpp"

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <chrono>
#include <ctime>

#include "log.hpp"

namespace fiskil::gateway {

namespace net = boost::asio;

namespace {

// not_after is the certificate's notAfter in seconds since the epoch (0 if
// it cannot be read).
std::int64_t not_after(SSL_CTX* ctx) {
  X509* cert = SSL_CTX_get0_certificate(ctx);
  if (cert == nullptr) return 0;
  int days = 0, seconds = 0;
  if (ASN1_TIME_diff(&days, &seconds, nullptr, X509_get0_notAfter(cert)) != 1) return 0;
  return static_cast<std::int64_t>(std::time(nullptr)) + std::int64_t{days} * 86400 + seconds;
}

}  // namespace

bool tls_context::load(const std::string& cert, const std::string& key, std::string& error) {
  auto made = std::make_shared<net::ssl::context>(net::ssl::context::tls_server);
  made->set_options(net::ssl::context::default_workarounds | net::ssl::context::no_sslv2 |
                    net::ssl::context::no_sslv3 | net::ssl::context::no_tlsv1 | net::ssl::context::no_tlsv1_1 |
                    net::ssl::context::single_dh_use);
  SSL_CTX* ctx = made->native_handle();
  if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 || SSL_CTX_set_cipher_list(ctx, tls_cipher_list) != 1) {
    error = "cannot set TLS 1.2 and the cipher list";
    return false;
  }
  boost::system::error_code ec;
  made->use_certificate_chain_file(cert, ec);
  if (ec) {
    error = "--tls-cert " + cert + ": " + ec.message();
    return false;
  }
  made->use_private_key_file(key, net::ssl::context::pem, ec);
  if (ec) {
    error = "--tls-key " + key + ": " + ec.message();
    return false;
  }
  if (SSL_CTX_check_private_key(ctx) != 1) {
    error = "--tls-key " + key + ": does not match the certificate in --tls-cert " + cert;
    return false;
  }
  const std::int64_t expires = not_after(ctx);
  const std::lock_guard lock(mutex_);
  context_ = std::move(made);
  expiry_ = expires;
  return true;
}

std::shared_ptr<net::ssl::context> tls_context::current() const {
  const std::lock_guard lock(mutex_);
  return context_;
}

std::int64_t tls_context::expiry() const {
  const std::lock_guard lock(mutex_);
  return expiry_;
}

void note_tls_handshake_failure(const std::string& peer, const std::string& reason) {
  static std::mutex mutex;
  static std::chrono::steady_clock::time_point last{};
  static std::uint64_t suppressed = 0;
  const auto now = std::chrono::steady_clock::now();
  std::uint64_t left_out = 0;
  {
    const std::lock_guard lock(mutex);
    if (last != std::chrono::steady_clock::time_point{} && now - last < std::chrono::seconds(1)) {
      ++suppressed;
      return;
    }
    last = now;
    left_out = suppressed;
    suppressed = 0;
  }
  log("warn", "tls_handshake_failed",
      {{"peer", peer}, {"reason", reason}, {"suppressed", std::to_string(left_out)}});
}

}  // namespace fiskil::gateway
