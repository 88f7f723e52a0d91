// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
//
// The HTTP client of fiskil-webhook send: Boost.Beast over Asio, one
// keep-alive connection per http_connection, HTTPS through Asio's SSL
// (OpenSSL's libssl, or BoringSSL's with the BoringSSL backend). No HTTP is
// parsed or written here by hand.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace cli {

// http_url is an http:// or https:// URL split for the client.
struct http_url {
  std::string text;         // as given
  bool tls = false;         // https
  std::string host;         // without brackets for an IPv6 literal
  std::string port;         // "80" / "443" when the URL gives none
  std::string host_header;  // the Host header: host[:port] as written in the URL
  std::string target;       // path and query, "/" when the URL has none
};

// parse_http_url reads text into out. It returns an empty string on success,
// otherwise a one-line message saying what is wrong with the URL.
std::string parse_http_url(std::string_view text, http_url& out);

// post_failure says why an attempt got no HTTP answer.
enum class post_failure {
  none,       // an answer was read: see post_result::status
  connect,    // the TCP connection could not be made
  tls,        // the TLS handshake failed (certificate, protocol)
  timeout,    // no complete answer within the attempt's timeout
  closed,     // the receiver closed or reset the connection without answering
  dropped,    // on purpose (--drop-response): closed after sending, answer unread
  bad_answer  // what came back is not a valid HTTP response (or over the limit)
};

// post_failure_name is the failure's name for logs: "connect", "timeout"...
std::string_view post_failure_name(post_failure failure);

// post_result is the result of one POST.
struct post_result {
  post_failure failure = post_failure::none;
  int status = 0;     // the HTTP status, when failure is none
  std::string body;   // the answer's body, at most max_answer_body bytes
  std::string error;  // the system's message for a failure
};

// max_answer_body bounds the answer bodies read: a larger answer counts as
// bad_answer.
inline constexpr std::size_t max_answer_body = 64 * 1024;

// http_connection is one keep-alive connection to one URL, making one POST
// at a time. It connects (and handshakes) when a POST needs it and is not
// connected, and reconnects after the receiver closed it. Every callback runs
// on the io_context's thread. Keep it in a shared_ptr: pending operations
// hold one.
class http_connection : public std::enable_shared_from_this<http_connection> {
 public:
  using callback = std::function<void(post_result&&)>;

  // url and endpoints must outlive the connection; tls_context too, when the
  // URL is https (it may be null otherwise). user_agent is copied.
  http_connection(boost::asio::io_context& io, const http_url& url,
                  const boost::asio::ip::tcp::resolver::results_type& endpoints,
                  boost::asio::ssl::context* tls_context, std::string_view user_agent);
  ~http_connection();
  http_connection(const http_connection&) = delete;
  http_connection& operator=(const http_connection&) = delete;

  // post sends body with Content-Type: application/json and
  // X-Fiskil-Signature: signature, byte for byte, and calls done once with
  // the answer or the failure. The whole attempt (connecting included) must
  // finish within timeout. With drop_response the connection is closed as
  // soon as the request is written (failure dropped). One post at a time.
  void post(std::string_view body, std::string_view signature, bool drop_response,
            std::chrono::steady_clock::duration timeout, callback done);

  // close closes the connection now; a post in progress ends with a failure.
  void close();

 private:
  struct state;
  std::unique_ptr<state> state_;
  void start_connect();
  void on_connected(const boost::system::error_code& error);
  void on_handshake(const boost::system::error_code& error);
  void start_write();
  void on_written(const boost::system::error_code& error);
  void on_read(const boost::system::error_code& error);
  void finish(post_result&& result);
  void fail(post_failure failure, const boost::system::error_code& error);
};

}  // namespace cli
