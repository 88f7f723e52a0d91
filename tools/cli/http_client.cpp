// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
#include "http_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <utility>


namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;

#ifdef BOOST_NO_EXCEPTIONS
// Built with -fno-exceptions, Boost reports what would have been an exception
// here. Beast and Asio throw only on misuse or when memory runs out: every
// network error reaches the tool as an error_code.
namespace boost {
BOOST_NORETURN void throw_exception(const std::exception& e) {
  std::fprintf(stderr, "fiskil-webhook: fatal: %s\n", e.what());
  std::abort();
}
BOOST_NORETURN void throw_exception(const std::exception& e, const boost::source_location&) { throw_exception(e); }
}  // namespace boost
#endif

namespace cli {

std::string parse_http_url(std::string_view text, http_url& out) {
  out = {};
  out.text = std::string(text);
  std::string_view rest;
  if (text.starts_with("http://")) {
    rest = text.substr(7);
  } else if (text.starts_with("https://")) {
    out.tls = true;
    rest = text.substr(8);
  } else {
    return "URL '" + std::string(text) + "' does not start with http:// or https://";
  }
  const std::size_t path_start = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, path_start);
  std::string_view target = path_start == std::string_view::npos ? std::string_view{} : rest.substr(path_start);
  if (const std::size_t fragment = target.find('#'); fragment != std::string_view::npos) target = target.substr(0, fragment);
  if (authority.find('@') != std::string_view::npos) {
    return "URL '" + std::string(text) + "' has user information (user@host), which send does not use";
  }
  std::string_view port;
  if (authority.starts_with("[")) {  // an IPv6 literal
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) return "URL '" + std::string(text) + "' has an unclosed '['";
    out.host = std::string(authority.substr(1, close - 1));
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return "URL '" + std::string(text) + "' has text after ']' that is not :PORT";
      port = after.substr(1);
    }
  } else {
    const std::size_t colon = authority.rfind(':');
    out.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
  }
  if (out.host.empty()) return "URL '" + std::string(text) + "' names no host";
  if (!port.empty() || authority.ends_with(":")) {
    if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string_view::npos ||
        std::atoi(std::string(port).c_str()) > 65535 || std::atoi(std::string(port).c_str()) == 0) {
      return "URL '" + std::string(text) + "' has port '" + std::string(port) + "'; a port is 1 to 65535";
    }
  }
  out.port = port.empty() ? (out.tls ? "443" : "80") : std::string(port);
  out.host_header = std::string(authority);
  out.target = target.empty() ? "/" : (target.front() == '?' ? "/" + std::string(target) : std::string(target));
  return {};
}

std::string_view post_failure_name(post_failure failure) {
  switch (failure) {
    case post_failure::none: return "none";
    case post_failure::connect: return "connect";
    case post_failure::tls: return "tls";
    case post_failure::timeout: return "timeout";
    case post_failure::closed: return "closed";
    case post_failure::dropped: return "dropped";
    case post_failure::bad_answer: return "bad_answer";
  }
  return "unknown";
}

struct http_connection::state {
  asio::io_context& io;
  const http_url& url;
  const asio::ip::tcp::resolver::results_type& endpoints;
  asio::ssl::context* tls_context;

  // A plain socket, or TLS over one. (Not beast::tcp_stream, whose timeouts
  // need exceptions in Boost 1.74: the deadline is a timer of our own.)
  std::optional<asio::ip::tcp::socket> plain;
  std::optional<beast::ssl_stream<asio::ip::tcp::socket>> secure;
  bool connected = false;
  asio::steady_timer deadline_timer;
  std::uint64_t generation = 0;  // counts attempts, so that a late timer cannot end the next one
  bool timed_out = false;

  http::request<http::string_body> request;
  beast::flat_buffer buffer;
  std::optional<http::response_parser<http::string_body>> parser;

  // The attempt in progress.
  callback done;
  bool drop_response = false;
  bool reused = false;   // sent over a connection that served an earlier POST
  bool resent = false;   // already sent again once after a stale keep-alive connection

  state(asio::io_context& i, const http_url& u, const asio::ip::tcp::resolver::results_type& e,
        asio::ssl::context* t)
      : io(i), url(u), endpoints(e), tls_context(t), deadline_timer(i) {}

  asio::ip::tcp::socket& lowest() { return secure ? secure->next_layer() : *plain; }

  template <class F>
  void with_stream(F&& f) {
    if (secure) {
      f(*secure);
    } else {
      f(*plain);
    }
  }

  // abort_io closes the socket under a pending operation, which then
  // completes with an error. The streams stay until that handler runs.
  void abort_io() {
    if (secure || plain) {
      beast::error_code ignored;
      lowest().close(ignored);
    }
  }

  void close() {
    if (secure || plain) {
      beast::error_code ignored;
      lowest().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
      lowest().close(ignored);
    }
    secure.reset();
    plain.reset();
    connected = false;
    buffer.clear();
  }
};

http_connection::http_connection(asio::io_context& io, const http_url& url,
                                 const asio::ip::tcp::resolver::results_type& endpoints,
                                 asio::ssl::context* tls_context, std::string_view user_agent)
    : state_(std::make_unique<state>(io, url, endpoints, tls_context)) {
  http::request<http::string_body>& request = state_->request;
  request.method(http::verb::post);
  request.target(url.target);
  request.version(11);
  request.set(http::field::host, url.host_header);
  request.set(http::field::user_agent, beast::string_view(user_agent.data(), user_agent.size()));
  request.set(http::field::content_type, "application/json");
}

http_connection::~http_connection() = default;

void http_connection::close() { state_->close(); }

void http_connection::post(std::string_view body, std::string_view signature, bool drop_response,
                           std::chrono::steady_clock::duration timeout, callback done) {
  state& s = *state_;
  s.request.set("X-Fiskil-Signature", beast::string_view(signature.data(), signature.size()));
  s.request.body().assign(body.data(), body.size());
  s.request.prepare_payload();
  s.done = std::move(done);
  s.drop_response = drop_response;
  s.resent = false;
  s.timed_out = false;
  const std::uint64_t generation = ++s.generation;
  s.deadline_timer.expires_after(timeout);
  s.deadline_timer.async_wait([self = shared_from_this(), generation](const beast::error_code& error) {
    state& st = *self->state_;
    if (error || generation != st.generation || !st.done) return;
    st.timed_out = true;  // the pending operation ends with operation_aborted,
    st.abort_io();        // and its handler closes the rest

  });
  if (s.connected) {
    s.reused = true;
    start_write();
  } else {
    s.reused = false;
    start_connect();
  }
}

void http_connection::start_connect() {
  state& s = *state_;
  s.close();
  if (s.url.tls) {
    s.secure.emplace(s.io, *s.tls_context);
    // SNI, and the certificate must name the host.
    SSL_set_tlsext_host_name(s.secure->native_handle(), s.url.host.c_str());
    s.secure->set_verify_callback(asio::ssl::host_name_verification(s.url.host));
  } else {
    s.plain.emplace(s.io);
  }
  asio::async_connect(s.lowest(), s.endpoints,
                      [self = shared_from_this()](const beast::error_code& error, const asio::ip::tcp::endpoint&) {
                        self->on_connected(error);
                      });
}

void http_connection::on_connected(const boost::system::error_code& error) {
  state& s = *state_;
  if (error) return fail(post_failure::connect, error);
  beast::error_code ignored;
  s.lowest().set_option(asio::ip::tcp::no_delay(true), ignored);
  if (!s.secure) {
    s.connected = true;
    return start_write();
  }
  s.secure->async_handshake(asio::ssl::stream_base::client,
                            [self = shared_from_this()](const beast::error_code& e) { self->on_handshake(e); });
}

void http_connection::on_handshake(const boost::system::error_code& error) {
  if (error) return fail(post_failure::tls, error);
  state_->connected = true;
  start_write();
}

void http_connection::start_write() {
  state& s = *state_;
  s.with_stream([&](auto& stream) {
    http::async_write(stream, s.request, [self = shared_from_this()](const beast::error_code& e, std::size_t) {
      self->on_written(e);
    });
  });
}

void http_connection::on_written(const boost::system::error_code& error) {
  state& s = *state_;
  if (error) {
    if (s.reused && !s.resent && !s.timed_out) {  // a keep-alive connection the receiver had closed: once more, fresh
      s.resent = true;
      s.reused = false;
      return start_connect();
    }
    return fail(post_failure::closed, error);
  }
  if (s.drop_response) {
    s.close();
    post_result result;
    result.failure = post_failure::dropped;
    return finish(std::move(result));
  }
  s.parser.emplace();
  s.parser->body_limit(max_answer_body);
  s.with_stream([&](auto& stream) {
    http::async_read(stream, s.buffer, *s.parser, [self = shared_from_this()](const beast::error_code& e, std::size_t) {
      self->on_read(e);
    });
  });
}

void http_connection::on_read(const boost::system::error_code& error) {
  state& s = *state_;
  if (error) {
    const bool nothing_read = !s.parser->got_some();
    const bool closed = error == http::error::end_of_stream || error == asio::error::eof ||
                        error == asio::error::connection_reset || error == asio::error::broken_pipe ||
                        error == asio::ssl::error::stream_truncated;
    if (closed && nothing_read && s.reused && !s.resent && !s.timed_out) {
      // The receiver closed an idle keep-alive connection as the request
      // went out: what any HTTP client does, send once more on a fresh one.
      s.resent = true;
      s.reused = false;
      return start_connect();
    }
    return fail(closed ? post_failure::closed : post_failure::bad_answer, error);
  }
  http::response<http::string_body> response = s.parser->release();
  post_result result;
  result.status = static_cast<int>(response.result_int());
  result.body = std::move(response.body());
  if (!response.keep_alive()) s.close();
  finish(std::move(result));
}

void http_connection::fail(post_failure failure, const boost::system::error_code& error) {
  state_->close();
  post_result result;
  result.failure = state_->timed_out ? post_failure::timeout : failure;
  result.error = error.message();
  finish(std::move(result));
}

void http_connection::finish(post_result&& result) {
  state_->deadline_timer.cancel();
  callback done = std::move(state_->done);
  state_->done = nullptr;
  if (done) done(std::move(result));
}

}  // namespace cli
