#include "http/listener.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <spdlog/spdlog.h>

#include <cerrno>
#include <optional>
#include <stdexcept>

namespace agentq {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

// A client must send a whole request within this; an idle keep-alive
// connection is closed after it too.
constexpr auto read_timeout = std::chrono::seconds(60);
// Writing an answer: a client that does not read gets dropped.
constexpr auto write_timeout = std::chrono::seconds(30);
// Out of descriptors or memory, accept() fails at once for as long as the
// backlog holds a connection: pause accepting this long instead of spinning
// (the connections we have keep being served), and log it at most once per
// log interval with the number of failures since the last line.
constexpr auto accept_backoff = std::chrono::milliseconds(100);
constexpr auto accept_log_interval = std::chrono::seconds(10);

// EMFILE, ENFILE, ENOBUFS, ENOMEM: failures that retrying at once cannot fix.
bool out_of_resources(const boost::system::error_code& ec) {
  if (ec.category() != boost::system::system_category()) return false;
  const int e = ec.value();
  return e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM;
}

}  // namespace

struct http_listener::impl : std::enable_shared_from_this<http_listener::impl> {
  asio::io_context io{1};
  tcp::acceptor acceptor{io};
  on_request handler;
  std::atomic<std::size_t> in_flight{0};
  std::atomic<bool> closing{false};
  std::uint16_t port = 0;
  std::function<void()> on_accept_failed;

  // The accept loop's back-off state (I/O thread only).
  asio::steady_timer accept_pause{io};
  std::uint64_t failures_unlogged = 0;
  std::chrono::steady_clock::time_point next_failure_log{};

  void accept();
  void accept_failed(const beast::error_code& ec);
};

namespace {

class session;

class exchange_impl final : public exchange {
 public:
  exchange_impl(std::shared_ptr<session> owner, http_request request, bool keep_alive)
      : m_session(std::move(owner)), m_request(std::move(request)), m_keep_alive(keep_alive) {}

  const http_request& request() const override { return m_request; }
  void respond(http_reply reply) override;
  void on_client_gone(std::function<void()> gone) override;

  bool answered() const { return m_answered; }
  void client_gone();

 private:
  friend class session;
  std::shared_ptr<session> m_session;
  http_request m_request;
  bool m_keep_alive;
  std::atomic<bool> m_answered{false};
  std::function<void()> m_gone;  // I/O thread only
};

class session : public std::enable_shared_from_this<session> {
 public:
  session(tcp::socket socket, std::shared_ptr<http_listener::impl> server)
      : m_stream(std::move(socket)), m_server(std::move(server)) {}

  void start() {
    asio::dispatch(m_stream.get_executor(), [self = shared_from_this()] { self->read(); });
  }

  auto executor() { return m_stream.get_executor(); }

  void write(http_reply reply, bool keep_alive, bool head) {
    auto res = std::make_shared<http::response<http::string_body>>();
    res->version(11);
    res->result(static_cast<unsigned>(reply.status));
    res->set(http::field::server, "agentq");
    if (!reply.content_type.empty()) res->set(http::field::content_type, reply.content_type);
    for (auto& [name, value] : reply.headers) res->set(name, value);
    res->keep_alive(keep_alive && !m_server->closing);
    if (head) {
      // A HEAD answer says how long the GET's body would be and sends none.
      res->content_length(reply.body.size());
    } else {
      res->body() = std::move(reply.body);
      res->prepare_payload();
    }
    m_stream.expires_after(write_timeout);
    http::async_write(m_stream, *res,
                      [self = shared_from_this(), res](beast::error_code ec, std::size_t) {
                        self->m_current.reset();
                        --self->m_server->in_flight;
                        if (ec || !res->keep_alive()) return self->close();
                        self->read();
                      });
  }

  // The client hung up while its request was waiting (a parked long-poll)?
  void watch_for_hangup(std::shared_ptr<exchange_impl> ex) {
    m_stream.socket().async_wait(
        tcp::socket::wait_read, [self = shared_from_this(), ex](beast::error_code ec) {
          if (ex->answered()) return;
          if (!ec) {
            char byte;
            auto n = self->m_stream.socket().receive(asio::buffer(&byte, 1),
                                                     tcp::socket::message_peek, ec);
            if (!ec && n > 0) return;  // a pipelined request: the client is there
          }
          // Stop the wait, then answer into the closed socket: the failed
          // write ends this exchange like any other.
          ex->client_gone();
          ex->respond(request_handler::no_content());
        });
  }

 private:
  void read() {
    m_parser.emplace();
    m_parser->body_limit(max_body_bytes);
    m_stream.expires_after(read_timeout);
    http::async_read(m_stream, m_buffer, *m_parser,
                     [self = shared_from_this()](beast::error_code ec, std::size_t) {
                       self->on_read(ec);
                     });
  }

  void on_read(beast::error_code ec) {
    const bool too_large = ec == http::error::body_limit;
    if (ec && !too_large) return close();  // end of stream, timeout, garbage
    const auto& msg = m_parser->get();
    http_request request;
    request.method = std::string(msg.method_string());
    request.target = std::string(msg.target());
    if (auto auth = msg.find(http::field::authorization); auth != msg.end())
      request.authorization = std::string(auth->value());
    if (too_large) {
      request.body_too_large = true;
    } else {
      request.body = msg.body();
    }
    // After a body we stopped reading, the stream is out of step: close.
    const bool keep_alive = !too_large && msg.keep_alive();
    m_stream.expires_never();  // a long-poll may wait its wait_s
    ++m_server->in_flight;
    auto ex = std::make_shared<exchange_impl>(shared_from_this(), std::move(request), keep_alive);
    m_current = ex;
    try {
      m_server->handler(ex);
    } catch (const std::exception& e) {
      spdlog::error("event=handler_threw error=\"{}\"", e.what());
      ex->respond(request_handler::error(refuse(error_code::unavailable, "internal error")));
    }
  }

  void close() {
    beast::error_code ignored;
    m_stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    m_stream.socket().close(ignored);
  }

  friend class exchange_impl;
  beast::tcp_stream m_stream;
  beast::flat_buffer m_buffer;
  std::optional<http::request_parser<http::string_body>> m_parser;
  std::shared_ptr<http_listener::impl> m_server;
  std::shared_ptr<exchange_impl> m_current;
};

void exchange_impl::respond(http_reply reply) {
  if (m_answered.exchange(true)) return;
  auto owner = m_session;
  const bool head = m_request.method == "HEAD";
  asio::post(owner->executor(),
             [owner, reply = std::move(reply), keep = m_keep_alive, head]() mutable {
    owner->write(std::move(reply), keep, head);
  });
}

void exchange_impl::on_client_gone(std::function<void()> gone) {
  auto owner = m_session;
  asio::post(owner->executor(),
             [owner, self = std::static_pointer_cast<exchange_impl>(owner->m_current),
              gone = std::move(gone)]() mutable {
               if (!self || self->answered()) return;
               self->m_gone = std::move(gone);
               owner->watch_for_hangup(self);
             });
}

void exchange_impl::client_gone() {
  if (m_gone) {
    auto gone = std::move(m_gone);
    m_gone = nullptr;
    gone();
  }
}

}  // namespace

void http_listener::impl::accept() {
  acceptor.async_accept(asio::make_strand(io), [self = shared_from_this()](
                                                   beast::error_code ec, tcp::socket socket) {
    if (ec) {
      if (!self->acceptor.is_open()) return;  // stop_accepting()
      if (out_of_resources(ec)) return self->accept_failed(ec);
      spdlog::warn("event=accept_failed error=\"{}\"", ec.message());
    } else {
      if (self->failures_unlogged > 0) {
        spdlog::info("event=accept_resumed failures_since_last_log={}", self->failures_unlogged);
        self->failures_unlogged = 0;
      }
      std::make_shared<session>(std::move(socket), self)->start();
    }
    self->accept();
  });
}

void http_listener::impl::accept_failed(const beast::error_code& ec) {
  if (on_accept_failed) on_accept_failed();
  ++failures_unlogged;
  const auto now = std::chrono::steady_clock::now();
  if (now >= next_failure_log) {
    spdlog::warn("event=accept_failed error=\"{}\" count={} backoff_ms={}", ec.message(),
                 failures_unlogged,
                 std::chrono::duration_cast<std::chrono::milliseconds>(accept_backoff).count());
    failures_unlogged = 0;
    next_failure_log = now + accept_log_interval;
  }
  accept_pause.expires_after(accept_backoff);
  accept_pause.async_wait([self = shared_from_this()](beast::error_code waited) {
    if (waited || !self->acceptor.is_open()) return;  // cancelled: stop_accepting()
    self->accept();
  });
}

http_listener::http_listener(const std::string& host, std::uint16_t port, on_request handler,
                             std::function<void()> on_accept_failed)
    : m_impl(std::make_shared<impl>()) {
  m_impl->handler = std::move(handler);
  m_impl->on_accept_failed = std::move(on_accept_failed);
  beast::error_code ec;
  tcp::endpoint endpoint;
  auto address = asio::ip::make_address(host, ec);
  if (ec) {
    tcp::resolver resolver(m_impl->io);
    auto results = resolver.resolve(host, std::to_string(port), ec);
    if (ec || results.empty())
      throw std::runtime_error("cannot resolve listen host '" + host + "'");
    endpoint = *results.begin();
  } else {
    endpoint = tcp::endpoint(address, port);
  }
  auto& acceptor = m_impl->acceptor;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    throw std::runtime_error("cannot listen on " + host + ":" + std::to_string(port) + ": " +
                             ec.message());
  m_impl->port = acceptor.local_endpoint().port();
  m_impl->accept();
}

http_listener::~http_listener() { stop(); }

std::uint16_t http_listener::port() const { return m_impl->port; }

void http_listener::run() { m_impl->io.run(); }

void http_listener::post(std::function<void()> fn) { asio::post(m_impl->io, std::move(fn)); }

void http_listener::stop_accepting() {
  asio::post(m_impl->io, [impl = m_impl] {
    impl->closing = true;
    beast::error_code ignored;
    impl->acceptor.close(ignored);
    impl->accept_pause.cancel();
  });
}

void http_listener::stop() { m_impl->io.stop(); }

std::size_t http_listener::in_flight() const { return m_impl->in_flight; }

}  // namespace agentq
