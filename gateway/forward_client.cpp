// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
#include "forward_client.hpp"

#include <atomic>
#include <optional>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

namespace fiskil::gateway {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

struct forward_tls {
  net::ssl::context context{net::ssl::context::tls_client};
};

std::shared_ptr<forward_tls> forward_tls_context(const std::string& ca_file, std::string& error) {
  auto tls = std::make_shared<forward_tls>();
  beast::error_code ec;
  tls->context.set_default_verify_paths(ec);
  if (!ec) tls->context.set_verify_mode(net::ssl::verify_peer, ec);
  if (!ec && !ca_file.empty()) tls->context.load_verify_file(ca_file, ec);
  if (ec) {
    error = (ca_file.empty() ? std::string("TLS: ") : "--forward-ca-file " + ca_file + ": ") + ec.message();
    return nullptr;
  }
  return tls;
}

bool forward_url::parse(std::string_view text, forward_url& out, std::string& error) {
  out.tls = text.substr(0, 8) == "https://";
  if (!out.tls && text.substr(0, 7) != "http://") {
    error = "expected http://HOST[:PORT][/PATH] or https://...";
    return false;
  }
  text.remove_prefix(out.tls ? 8 : 7);
  const std::string form = out.tls ? "expected https://HOST[:PORT][/PATH]" : "expected http://HOST[:PORT][/PATH]";
  const std::size_t slash = text.find('/');
  std::string_view authority = text.substr(0, slash);
  out.target = slash == std::string_view::npos ? "/" : std::string(text.substr(slash));
  if (authority.empty() || authority.find('@') != std::string_view::npos) {
    error = form + " (no user information)";
    return false;
  }
  std::string_view port = out.tls ? "443" : "80";
  if (authority.front() == '[') {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) {
      error = "unclosed [ in the host";
      return false;
    }
    out.host = std::string(authority.substr(1, close - 1));
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') {
        error = "expected :PORT after ]";
        return false;
      }
      port = authority.substr(close + 2);
    }
  } else if (const std::size_t colon = authority.rfind(':'); colon != std::string_view::npos) {
    out.host = std::string(authority.substr(0, colon));
    port = authority.substr(colon + 1);
  } else {
    out.host = std::string(authority);
  }
  if (out.host.empty() || port.empty() || port.size() > 5 ||
      port.find_first_not_of("0123456789") != std::string_view::npos || std::stoi(std::string(port)) > 65535) {
    error = form;
    return false;
  }
  out.port = std::string(port);
  return true;
}

struct forward_connection::impl {
  impl(forward_url u, std::shared_ptr<forward_tls> t) : url(std::move(u)), tls(std::move(t)) {}
  forward_url url;
  std::shared_ptr<forward_tls> tls;  // set for https
  net::io_context ioc;
  tcp::resolver resolver{ioc};
  std::optional<beast::tcp_stream> stream;                     // http
  std::optional<beast::ssl_stream<beast::tcp_stream>> secure;  // https

  beast::tcp_stream& tcp_layer() { return secure ? beast::get_lowest_layer(*secure) : *stream; }
  bool is_open() { return (stream || secure) && tcp_layer().socket().is_open(); }
  beast::flat_buffer buffer;
  std::atomic<bool> stopped{false};

  // run runs the io_context until done is set (the handler ran) or it is
  // stopped; then it is ready for the next operation.
  bool run(const bool& done) {
    ioc.restart();
    while (!done && !stopped.load(std::memory_order_acquire)) {
      if (ioc.run_one() == 0) break;
    }
    return done;
  }

  void close() {
    if (stream || secure) {
      beast::error_code ignored;
      tcp_layer().socket().shutdown(tcp::socket::shutdown_both, ignored);
      tcp_layer().socket().close(ignored);
      // Let the cancelled handlers run, unless interrupted: then an
      // operation's handler may refer to a frame that has returned, and is
      // destroyed with the io_context instead, never called.
      if (!stopped.load(std::memory_order_acquire)) {
        ioc.restart();
        ioc.poll();
      }
      stream.reset();
      secure.reset();
    }
    buffer.clear();
  }

  // connect opens a new connection before deadline.
  beast::error_code connect(std::chrono::steady_clock::time_point deadline) {
    close();
    beast::error_code result;
    bool done = false;
    tcp::resolver::results_type endpoints;
    net::steady_timer timer(ioc);
    timer.expires_at(deadline);
    bool resolved = false;
    timer.async_wait([&](beast::error_code ec) {
      if (!ec && !resolved) resolver.cancel();
    });
    resolver.async_resolve(url.host, url.port, [&](beast::error_code ec, tcp::resolver::results_type r) {
      resolved = true;
      timer.cancel();
      result = ec == net::error::operation_aborted ? beast::error::timeout : ec;
      endpoints = std::move(r);
      done = true;
    });
    if (!run(done)) return net::error::operation_aborted;
    // The timer's handler, cancelled.
    ioc.restart();
    ioc.poll();
    if (result) return result;
    if (tls) {
      secure.emplace(ioc, tls->context);
      // SNI, and the certificate must name the host.
      SSL_set_tlsext_host_name(secure->native_handle(), url.host.c_str());
      secure->set_verify_callback(net::ssl::host_name_verification(url.host));
    } else {
      stream.emplace(ioc);
    }
    tcp_layer().expires_at(deadline);
    done = false;
    tcp_layer().async_connect(endpoints, [&](beast::error_code ec, const tcp::endpoint&) {
      result = ec;
      done = true;
    });
    if (!run(done)) return net::error::operation_aborted;
    if (!result) tcp_layer().socket().set_option(tcp::no_delay(true), result);
    if (result || !secure) return result;
    done = false;
    secure->async_handshake(net::ssl::stream_base::client, [&](beast::error_code ec) {
      result = ec;
      done = true;
    });
    if (!run(done)) return net::error::operation_aborted;
    return result;
  }

  // exchange writes the request and reads the response on the open stream.
  beast::error_code exchange(const http::request<http::string_body>& request,
                             http::response_parser<http::string_body>& parser,
                             std::chrono::steady_clock::time_point deadline, bool& wrote) {
    if (secure) return exchange_on(*secure, request, parser, deadline, wrote);
    return exchange_on(*stream, request, parser, deadline, wrote);
  }

  template <class Stream>
  beast::error_code exchange_on(Stream& s, const http::request<http::string_body>& request,
                                http::response_parser<http::string_body>& parser,
                                std::chrono::steady_clock::time_point deadline, bool& wrote) {
    beast::error_code result;
    bool done = false;
    tcp_layer().expires_at(deadline);
    http::async_write(s, request, [&](beast::error_code ec, std::size_t) {
      result = ec;
      done = true;
    });
    if (!run(done)) return net::error::operation_aborted;
    if (result) return result;
    wrote = true;
    done = false;
    tcp_layer().expires_at(deadline);
    http::async_read(s, buffer, parser, [&](beast::error_code ec, std::size_t) {
      result = ec;
      done = true;
    });
    if (!run(done)) return net::error::operation_aborted;
    return result;
  }
};

forward_connection::forward_connection(forward_url url, std::shared_ptr<forward_tls> tls)
    : impl_(std::make_unique<impl>(std::move(url), std::move(tls))) {}

forward_connection::~forward_connection() {
  impl_->stopped.store(true);
  impl_->close();
}

void forward_connection::interrupt() {
  impl_->stopped.store(true, std::memory_order_release);
  impl_->ioc.stop();
}

forward_response forward_connection::send(const forward_request& r, std::chrono::nanoseconds timeout) {
  impl& c = *impl_;
  forward_response out;
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::duration_cast<std::chrono::steady_clock::duration>(timeout);
  http::request<http::string_body> request{http::verb::post, c.url.target, 11};
  request.set(http::field::host,
              c.url.port == (c.url.tls ? "443" : "80") ? c.url.host : c.url.host + ":" + c.url.port);
  request.set(http::field::user_agent, "fiskil-gateway");
  request.set(http::field::content_type, "application/json");
  request.set("webhook-id", r.message_id);
  request.set("webhook-timestamp", std::to_string(r.timestamp));
  request.set("webhook-signature", r.signature);
  request.set("Idempotency-Key", r.message_id);
  request.set("X-Fiskil-Event", r.event);
  request.set("X-Fiskil-Delivery-Attempt", std::to_string(r.attempt));
  request.keep_alive(true);
  request.body() = std::string(r.body);
  request.prepare_payload();

  for (int round = 0; round < 2; ++round) {
    if (c.stopped.load(std::memory_order_acquire)) {
      out.interrupted = true;
      return out;
    }
    const bool reused = c.is_open();
    beast::error_code ec;
    if (!reused) ec = c.connect(deadline);
    http::response_parser<http::string_body> parser;
    parser.body_limit(1 << 20);
    bool wrote = false;
    if (!ec) ec = c.exchange(request, parser, deadline, wrote);
    if (c.stopped.load(std::memory_order_acquire)) {
      c.close();
      out.interrupted = true;
      return out;
    }
    if (!ec) {
      const auto& response = parser.get();
      out.status = static_cast<int>(response.result_int());
      out.result = classify_status(out.status);
      if (const auto found = response.find(http::field::retry_after); found != response.end())
        out.retry_after = std::string(found->value());
      if (!response.keep_alive()) c.close();
      return out;
    }
    c.close();
    // A kept-alive connection the app closed meanwhile fails at once: try
    // again on a new one, within the same deadline.
    const bool stale = reused && ec != beast::error::timeout &&
                       (ec == http::error::end_of_stream || ec == net::error::eof ||
                        ec == net::error::connection_reset || ec == net::error::broken_pipe ||
                        ec == net::ssl::error::stream_truncated);
    if (stale && round == 0 && std::chrono::steady_clock::now() < deadline) continue;
    out.result = ec == beast::error::timeout ? attempt_class::timeout : attempt_class::connection;
    out.error = ec == beast::error::timeout ? "timeout (--forward-timeout)" : ec.message();
    return out;
  }
  return out;
}

}  // namespace fiskil::gateway
