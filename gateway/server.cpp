// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
#include "server.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#ifndef FISKIL_GATEWAY_TLS
#define FISKIL_GATEWAY_TLS 0
#endif

#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#if FISKIL_GATEWAY_TLS
#include <boost/asio/ssl.hpp>
#include <boost/beast/ssl.hpp>
#endif

#include "log.hpp"
#include "metrics.hpp"
#include "reply_queue.hpp"
#include "thread_name.hpp"
#include "routes.hpp"
#if FISKIL_GATEWAY_TLS
#include "tls_context.hpp"
#endif

namespace fiskil::gateway {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

// Each connection runs on its own strand, named by its concrete type: the
// type-erased net::any_io_executor of beast::tcp_stream allocates whenever
// an operation prefers or requires a property of it (about 25 times per
// request), this does not.
using strand_type = net::strand<net::io_context::executor_type>;
using socket_type = tcp::socket::rebind_executor<strand_type>::other;
using tcp_stream = beast::basic_stream<tcp, strand_type>;

namespace {

struct shared {
  shared(const server_options& o, routes& h, metrics& c) : options(o), handler(h), counters(c) {}
  server_options options;
  routes& handler;
  metrics& counters;
  std::atomic<std::size_t> connections{0};
  std::atomic<std::size_t> in_flight{0};
  std::atomic<bool> stopping{false};
  std::mutex idle_mutex;
  std::condition_variable idle;
  reply_queue* replies = nullptr;  // the server's (set once it exists)

  void request_done() {
    if (in_flight.fetch_sub(1) == 1 && stopping.load()) {
      const std::lock_guard lock(idle_mutex);
      idle.notify_all();
    }
  }
};

// session serves one connection; Stream is tcp_stream (HTTP) or
// beast::ssl_stream<tcp_stream> (HTTPS, --tls-cert).
template <class Stream>
class session : public reply_target, public std::enable_shared_from_this<session<Stream>> {
  using std::enable_shared_from_this<session<Stream>>::shared_from_this;

 public:
  template <class... Context>
  session(socket_type&& socket, shared& s, listener_role role, Context&... context)
      : stream_(std::move(socket), context...), s_(s), role_(role) {
    beast::error_code ec;
    const tcp::endpoint remote = tcp_layer().socket().remote_endpoint(ec);
    if (!ec) {
      const net::ip::address address = remote.address();
      if (address.is_v4()) {
        const auto bytes = address.to_v4().to_bytes();
        std::copy(bytes.begin(), bytes.end(), peer_.begin());
        peer_size_ = bytes.size();
      } else {
        const auto bytes = address.to_v6().to_bytes();
        std::copy(bytes.begin(), bytes.end(), peer_.begin());
        peer_size_ = bytes.size();
      }
    }
    s_.counters.connection_opened();
  }

  ~session() {
    s_.connections.fetch_sub(1);
    s_.counters.connection_closed();
  }

  void start() {
    net::dispatch(stream_.get_executor(), beast::bind_front_handler(&session::begin, shared_from_this()));
  }

  // hold keeps context (the TLS context the stream was made with) alive as
  // long as the session.
  void hold(std::shared_ptr<void> context) { held_ = std::move(context); }

 private:
  tcp_stream& tcp_layer() { return beast::get_lowest_layer(stream_); }

  std::string peer_text() const {
    if (peer_size_ == 4) {
      net::ip::address_v4::bytes_type b{};
      std::copy_n(peer_.begin(), 4, b.begin());
      return net::ip::make_address_v4(b).to_string();
    }
    if (peer_size_ == 16) {
      net::ip::address_v6::bytes_type b{};
      std::copy_n(peer_.begin(), 16, b.begin());
      return net::ip::make_address_v6(b).to_string();
    }
    return "unknown";
  }

  void begin() {
    if constexpr (std::is_same_v<Stream, tcp_stream>) {
      read();
    }
#if FISKIL_GATEWAY_TLS
    else {
      // The TLS handshake must finish within the read timeout too; a
      // failed or late one is a handshake failure, not a read timeout.
      tcp_layer().expires_after(s_.options.read_timeout);
      stream_.async_handshake(net::ssl::stream_base::server,
                              [self = shared_from_this()](beast::error_code ec) {
                                if (ec) {
                                  self->s_.counters.tls_handshake_failure();
                                  note_tls_handshake_failure(self->peer_text(), ec.message());
                                  return self->close();
                                }
                                self->read();
                              });
    }
#endif
  }

  void read() {
    if (s_.stopping.load()) return close();
    parser_.emplace();
    parser_->body_limit(s_.options.max_body_size);
    parser_->header_limit(static_cast<std::uint32_t>(s_.options.max_header_size));
    if (buffer_.size() > 0) return read_request();  // a pipelined request has begun already
    // Wait for the next request's first byte: idle_timeout between requests
    // on a keep-alive connection, read_timeout on a new one (a connection
    // that sends nothing holds a slot as cheaply as a slow request does).
    tcp_layer().expires_after(served_ ? s_.options.idle_timeout : s_.options.read_timeout);
    stream_.async_read_some(buffer_.prepare(std::min<std::size_t>(8192, buffer_.max_size() - buffer_.size())),
                            beast::bind_front_handler(&session::on_first_bytes, shared_from_this()));
  }

  void on_first_bytes(beast::error_code ec, std::size_t n) {
    if (ec == beast::error::timeout) {
      s_.counters.idle_close();
      return;  // tcp_stream closed the socket
    }
    if (ec) return close();  // closed by the peer between requests
    buffer_.commit(n);
    read_request();
  }

  // read_request reads one request, headers and body, within read_timeout
  // of its first byte.
  void read_request() {
    tcp_layer().expires_after(s_.options.read_timeout);
    http::async_read_header(stream_, buffer_, *parser_,
                            beast::bind_front_handler(&session::on_header, shared_from_this()));
  }

  // on_header decides on the headers alone when it can (a refused source
  // is answered before its body is read), else reads the body.
  void on_header(beast::error_code ec, std::size_t) {
    if (ec) return on_read(ec, 0);
    if (role_ != listener_role::admin)
      if (std::optional<http_reply> refusal = s_.handler.refuse_early(
              parser_->get().target(), std::span<const unsigned char>(peer_.data(), peer_size_)))
        return send_final(std::move(*refusal));
    if (parser_->is_done()) return on_read(ec, 0);
    http::async_read(stream_, buffer_, *parser_, beast::bind_front_handler(&session::on_read, shared_from_this()));
  }

  void on_read(beast::error_code ec, std::size_t) {
    if (ec == http::error::end_of_stream) return close();
    if (ec == beast::error::timeout) {
      s_.counters.read_timeout();
      return;  // tcp_stream closed the socket
    }
    if (ec == http::error::body_limit) {
      s_.counters.bad_request();
      return send_final(s_.handler.refuse_too_large(parser_->get().target()));
    }
    if (ec == http::error::header_limit) {
      s_.counters.bad_request();
      return send_final(json_reply(431, "headers_too_large", "request headers over 8 KiB"));
    }
    if (ec && ec.category() == http::make_error_code(http::error::bad_target).category()) {
      s_.counters.bad_request();
      return send_final(json_reply(400, "bad_request", "malformed HTTP request"));
    }
    if (ec) return close();  // reset by the peer, or closed in the middle of a request

    http::request<http::string_body>& req = parser_->get();
    if (req.method() == http::verb::post && !parser_->content_length() && !parser_->chunked()) {
      s_.counters.bad_request();
      return send_final(json_reply(411, "length_required", "a POST needs Content-Length or chunked encoding"));
    }
    tcp_layer().expires_never();
    served_ = true;
    s_.in_flight.fetch_add(1);
    keep_alive_ = req.keep_alive();
    // Every X-Forwarded-For line, joined with ", " (RFC 9110 list
    // semantics): a proxy that appends its own line leaves the client's
    // (possibly forged) line first, and admission takes the last hop.
    forwarded_for_.clear();
    for (auto [line, end] = req.equal_range("X-Forwarded-For"); line != end; ++line) {
      if (!forwarded_for_.empty()) forwarded_for_ += ", ";
      forwarded_for_ += line->value();
    }
    const http_request_view view{req.method_string(), req.target(),          req.body(),
                                 req["X-Fiskil-Signature"], forwarded_for_,
                                 std::span<const unsigned char>(peer_.data(), peer_size_), role_};
    auto self = shared_from_this();
    s_.handler.handle(view, [self](http_reply reply) {
      // An answer made on this connection's strand (refusals, duplicates,
      // the floor) is posted to it; one made on another thread (the store's
      // writer) goes through the reply queue, one wake-up per batch.
      if (self->stream_.get_executor().running_in_this_thread() || self->s_.replies == nullptr) {
        net::post(self->stream_.get_executor(), [self, reply = std::move(reply)]() mutable {
          self->send(std::move(reply), !self->keep_alive_, true);
        });
      } else {
        self->s_.replies->push(self, std::move(reply));
      }
    });
  }

  void on_reply(http_reply reply) override {
    net::dispatch(stream_.get_executor(), [self = shared_from_this(), reply = std::move(reply)]() mutable {
      self->send(std::move(reply), !self->keep_alive_, true);
    });
  }

  // send_final answers and closes (the request was not read to its end).
  void send_final(http_reply reply) {
    keep_alive_ = false;
    send(std::move(reply), true, false);
  }

  void send(http_reply reply, bool close_after, bool counted) {
    counted_ = counted;
    const unsigned version = parser_ && parser_->get().version() == 10 ? 10 : 11;
    res_ = {};
    res_.version(version);
    res_.result(static_cast<http::status>(reply.status));
    res_.set(http::field::server, "fiskil-gateway");
    res_.set(http::field::content_type, reply.content_type);
    if (!reply.allow.empty()) res_.set(http::field::allow, reply.allow);
    if (!reply.retry_after.empty()) res_.set(http::field::retry_after, reply.retry_after);
    res_.body() = std::move(reply.body);
    res_.keep_alive(!close_after && !s_.stopping.load());
    res_.prepare_payload();
    // HEAD: the headers GET would send (its Content-Length too), no body.
    if (parser_ && parser_->is_header_done() && parser_->get().method() == http::verb::head) res_.body().clear();
    tcp_layer().expires_after(s_.options.read_timeout);
    http::async_write(stream_, res_, beast::bind_front_handler(&session::on_write, shared_from_this()));
  }

  void on_write(beast::error_code ec, std::size_t) {
    const bool keep = res_.keep_alive();
    if (counted_) {
      counted_ = false;
      s_.request_done();
    }
    if (ec) return close();
    if (!keep) return linger();
    read();
  }

  // linger closes gracefully: stop sending, then read and drop what the
  // client still sends (at most 1 s and 1 MiB), so that the answer is not
  // lost to a reset caused by unread data.
  void linger() {
    beast::error_code ignored;
    tcp_layer().socket().shutdown(tcp::socket::shutdown_send, ignored);
    tcp_layer().expires_after(std::chrono::seconds(1));
    drain();
  }

  void drain() {
    stream_.async_read_some(net::buffer(discard_), [self = shared_from_this()](beast::error_code ec, std::size_t n) {
      self->drained_ += n;
      if (ec || self->drained_ > (std::size_t{1} << 20)) return self->close();
      self->drain();
    });
  }

  void close() {
    beast::error_code ignored;
    tcp_layer().socket().shutdown(tcp::socket::shutdown_both, ignored);
    tcp_layer().close();
  }

  Stream stream_;
  shared& s_;
  listener_role role_;
  beast::flat_buffer buffer_{16384};
  std::optional<http::request_parser<http::string_body>> parser_;
  std::string forwarded_for_;  // the request's X-Forwarded-For lines, joined
  http::response<http::string_body> res_;
  std::array<unsigned char, 16> peer_{};  // the peer's address, network order
  std::size_t peer_size_ = 0;             // 4, 16, or 0 when unknown
  bool keep_alive_ = true;
  bool served_ = false;  // a request was read: later waits are keep-alive idle ones
  bool counted_ = false;
  std::array<char, 4096> discard_{};
  std::size_t drained_ = 0;
  std::shared_ptr<void> held_;  // the TLS context, see hold()
};

// refusal answers one connection over --max-connections with 503 and closes it.
void refuse(socket_type socket) {
  static const std::string answer = [] {
    const std::string body = json_reply(503, "unavailable", "too many open connections").body;
    return "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nConnection: close\r\n"
           "Retry-After: 1\r\nContent-Length: " +
           std::to_string(body.size()) + "\r\n\r\n" + body;
  }();
  auto held = std::make_shared<socket_type>(std::move(socket));
  net::async_write(*held, net::buffer(answer), [held](beast::error_code, std::size_t) {
    beast::error_code ignored;
    held->shutdown(tcp::socket::shutdown_both, ignored);
    held->close(ignored);
  });
}

// listener is one listening socket: the delivery one (--listen), or the
// admin one (--admin-listen), each with its accept backoff.
struct listener {
  listener(net::io_context& ioc, listener_role r) : role(r), acceptor(net::make_strand(ioc)) {}
  listener_role role;
  tcp::acceptor acceptor;
  net::steady_timer accept_timer{acceptor.get_executor()};  // back_off's, on the acceptor's strand
  std::chrono::milliseconds accept_delay{0};                // 0 while accept succeeds
  std::uint64_t accept_failures = 0;                        // since the last accept_failed line
  std::chrono::steady_clock::time_point accept_logged{};
};

}  // namespace

struct server::impl {
  impl(const server_options& options, routes& handler, metrics& counters)
      : s(options, handler, counters),
        main(ioc, options.admin_host.empty() ? listener_role::all : listener_role::delivery),
        admin(ioc, listener_role::admin) {
    s.replies = &replies;
  }

  // Destroyed in reverse order: the threads, the acceptors, then the
  // io_context (whose pending handlers hold the last sessions, which use s).

  void accept(listener& l) {
    l.acceptor.async_accept(strand_type(ioc.get_executor()), [this, &l](beast::error_code ec, socket_type socket) {
      if (ec) {
        if (!l.acceptor.is_open() || s.stopping.load()) return;
        return back_off(l, ec);
      }
      l.accept_delay = {};
      if (s.connections.load() >= s.options.max_connections) {
        s.counters.connection_refused();
        refuse(std::move(socket));
      } else {
        s.connections.fetch_add(1);
#if FISKIL_GATEWAY_TLS
        if (tls_on && l.role != listener_role::admin) {
          std::shared_ptr<net::ssl::context> context = tls.current();
          auto made = std::make_shared<session<beast::ssl_stream<tcp_stream>>>(std::move(socket), s, l.role,
                                                                                      *context);
          made->hold(std::move(context));
          made->start();
          return accept(l);
        }
#endif
        std::make_shared<session<tcp_stream>>(std::move(socket), s, l.role)->start();
      }
      accept(l);
    });
  }

  // back_off retries a failed accept (EMFILE, ENFILE, ENOBUFS...) after
  // 50 ms, doubling to 1 s while it keeps failing, instead of at once (the
  // pending connection would make it fail again in a busy loop); it logs at
  // most once per second, with the failures since the last line.
  void back_off(listener& l, const beast::error_code& ec) {
    ++l.accept_failures;
    const auto now = std::chrono::steady_clock::now();
    l.accept_delay = l.accept_delay.count() == 0 ? std::chrono::milliseconds(50)
                                                 : std::min(l.accept_delay * 2, std::chrono::milliseconds(1000));
    if (now - l.accept_logged >= std::chrono::seconds(1)) {
      log("warn", "accept_failed",
          {{"reason", ec.message()}, {"failures", std::to_string(l.accept_failures)},
           {"retry_in_ms", std::to_string(l.accept_delay.count())},
           {"listener", l.role == listener_role::admin ? "admin" : "delivery"}});
      l.accept_failures = 0;
      l.accept_logged = now;
    }
    l.accept_timer.expires_after(l.accept_delay);
    l.accept_timer.async_wait([this, &l](beast::error_code waited) {
      if (waited || !l.acceptor.is_open() || s.stopping.load()) return;
      accept(l);
    });
  }

  // open binds and listens on host:port; bound is then "HOST:PORT" as bound.
  bool open(listener& l, const std::string& flag, const std::string& host, std::uint16_t port, std::string& bound,
            std::string& error) {
    beast::error_code ec;
    const net::ip::address address = net::ip::make_address(host, ec);
    if (ec) {
      error = flag + ": '" + host + "' is not an IP address";
      return false;
    }
    const tcp::endpoint endpoint{address, port};
    tcp::acceptor& acceptor = l.acceptor;
    acceptor.open(endpoint.protocol(), ec);
    if (!ec) acceptor.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) acceptor.bind(endpoint, ec);
    if (!ec) acceptor.listen(net::socket_base::max_listen_connections, ec);
    if (ec) {
      error = flag + " " + host + ":" + std::to_string(port) + ": " + ec.message();
      return false;
    }
    const tcp::endpoint local = acceptor.local_endpoint(ec);
    const std::string text = local.address().to_string();
    bound = (local.address().is_v6() ? "[" + text + "]" : text) + ":" + std::to_string(local.port());
    return true;
  }

  void close(listener& l) {
    net::post(l.acceptor.get_executor(), [&l] {
      beast::error_code ignored;
      l.acceptor.close(ignored);
      l.accept_timer.cancel();
    });
  }

  shared s;
#if FISKIL_GATEWAY_TLS
  tls_context tls;      // with --tls-cert; SIGHUP replaces its context
  bool tls_on = false;
#endif
  net::io_context ioc;
  reply_queue replies{ioc};  // destroyed before ioc, whose handlers it posted
  listener main, admin;  // admin: only with --admin-listen
  std::string admin_bound;
  std::vector<std::thread> threads;
};

server::server(const server_options& options, routes& handler, metrics& counters)
    : impl_(std::make_unique<impl>(options, handler, counters)) {}

server::~server() {
  impl_->ioc.stop();
  for (std::thread& t : impl_->threads)
    if (t.joinable()) t.join();
}

bool server::tls_available() noexcept { return FISKIL_GATEWAY_TLS != 0; }

bool server::listen(std::string& bound, std::string& error) {
  if (!impl_->s.options.tls_cert.empty()) {
#if FISKIL_GATEWAY_TLS
    if (!impl_->tls.load(impl_->s.options.tls_cert, impl_->s.options.tls_key, error)) return false;
    impl_->tls_on = true;
    impl_->s.counters.tls_certificate_expiry(impl_->tls.expiry());
#else
    error = "--tls-cert: this build serves plain HTTP only";
    return false;
#endif
  }
  if (!impl_->open(impl_->main, "--listen", impl_->s.options.host, impl_->s.options.port, bound, error)) return false;
  if (!impl_->s.options.admin_host.empty() &&
      !impl_->open(impl_->admin, "--admin-listen", impl_->s.options.admin_host, impl_->s.options.admin_port,
                   impl_->admin_bound, error))
    return false;
  return true;
}

bool server::reload_tls(std::string& error) {
#if FISKIL_GATEWAY_TLS
  if (!impl_->tls_on) return true;
  if (!impl_->tls.load(impl_->s.options.tls_cert, impl_->s.options.tls_key, error)) return false;
  impl_->s.counters.tls_certificate_expiry(impl_->tls.expiry());
#else
  (void)error;
#endif
  return true;
}

const std::string& server::admin_bound() const noexcept { return impl_->admin_bound; }

void server::run() {
  // The io_context must not run out of work while requests wait for the
  // journal (no I/O is pending for them then): their answers are posted to
  // it later, from the journal's thread.
  auto keep_running = net::make_work_guard(impl_->ioc);
  impl_->accept(impl_->main);
  if (!impl_->admin_bound.empty()) impl_->accept(impl_->admin);
  for (unsigned i = 0; i < impl_->s.options.threads; ++i) impl_->threads.emplace_back([this] {
      name_this_thread("fw-io");
      impl_->ioc.run();
    });
  {
    std::unique_lock lock(impl_->s.idle_mutex);
    impl_->s.idle.wait(lock, [this] { return impl_->s.stopping.load(); });
    // Requests in flight (read, waiting on the journal, or being written)
    // are answered before the I/O threads stop; idle connections are not
    // waited for.
    if (!impl_->s.idle.wait_for(lock, std::chrono::seconds(30), [this] { return impl_->s.in_flight.load() == 0; }))
      log("warn", "stop_timeout", {{"in_flight", std::to_string(impl_->s.in_flight.load())}});
  }
  impl_->ioc.stop();
  for (std::thread& t : impl_->threads) t.join();
  impl_->threads.clear();
}

void server::post(std::function<void()> task) { net::post(impl_->ioc, std::move(task)); }

void server::stop() {
  impl_->close(impl_->main);
  impl_->close(impl_->admin);
  const std::lock_guard lock(impl_->s.idle_mutex);
  impl_->s.stopping.store(true);
  impl_->s.idle.notify_all();
}

}  // namespace fiskil::gateway
