#include "http_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <cctype>

namespace agentq {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

struct endpoint_parts {
  std::string host;
  std::string port;
};

// http://host:port[/] only: the contract's AGENTQ_SERVER. No TLS here; put a
// proxy in front for that.
endpoint_parts parse_base_url(const std::string& url) {
  const std::string scheme = "http://";
  if (url.rfind(scheme, 0) != 0)
    throw std::invalid_argument("server URL must start with http:// (got '" + url + "')");
  std::string rest = url.substr(scheme.size());
  while (!rest.empty() && rest.back() == '/') rest.pop_back();
  if (rest.find('/') != std::string::npos)
    throw std::invalid_argument("server URL must be http://host:port without a path (got '" +
                                url + "')");
  endpoint_parts parts;
  if (!rest.empty() && rest.front() == '[') {  // [::1]:7420
    auto close = rest.find(']');
    if (close == std::string::npos) throw std::invalid_argument("bad IPv6 host in '" + url + "'");
    parts.host = rest.substr(1, close - 1);
    rest = rest.substr(close + 1);
    parts.port = rest.rfind(':', 0) == 0 ? rest.substr(1) : "80";
  } else {
    auto colon = rest.rfind(':');
    parts.host = rest.substr(0, colon);
    parts.port = colon == std::string::npos ? "80" : rest.substr(colon + 1);
  }
  if (parts.host.empty() || parts.port.empty())
    throw std::invalid_argument("server URL needs a host and port (got '" + url + "')");
  return parts;
}

std::string lower(std::string text) {
  for (auto& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

}  // namespace

std::string http_response::error_code() const {
  if (body.is_object() && body.contains("error") && body["error"].is_object() &&
      body["error"].contains("code") && body["error"]["code"].is_string())
    return body["error"]["code"].get<std::string>();
  if (status >= 400) return "http_" + std::to_string(status);
  return "";
}

std::string http_response::error_message() const {
  if (body.is_object() && body.contains("error") && body["error"].is_object() &&
      body["error"].contains("message") && body["error"]["message"].is_string())
    return body["error"]["message"].get<std::string>();
  return status >= 400 ? raw_body : "";
}

struct http_client::connection {
  asio::io_context io;
  beast::tcp_stream stream{io};
  beast::flat_buffer buffer;
  endpoint_parts endpoint;
  bool open = false;

  void close() {
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream.socket().close(ignored);
    buffer.consume(buffer.size());
    open = false;
  }
};

http_client::http_client(std::string base_url, std::string token)
    : m_base_url(std::move(base_url)), m_token(std::move(token)),
      m_conn(std::make_unique<connection>()) {
  m_conn->endpoint = parse_base_url(m_base_url);
}

http_client::~http_client() = default;

http_response http_client::request(const std::string& method, const std::string& target,
                                   const nlohmann::json& body,
                                   std::chrono::milliseconds timeout) {
  auto& conn = *m_conn;
  http::request<http::string_body> req;
  req.method(http::string_to_verb(method));
  if (req.method() == http::verb::unknown)
    throw std::invalid_argument("unknown HTTP method " + method);
  req.target(target);
  req.version(11);
  req.set(http::field::host, conn.endpoint.host + ":" + conn.endpoint.port);
  req.set(http::field::user_agent, "agentq-client");
  req.set(http::field::accept, "application/json");
  if (!m_token.empty()) req.set(http::field::authorization, "Bearer " + m_token);
  if (!body.is_null()) {
    req.set(http::field::content_type, "application/json");
    req.body() = body.dump();
  }
  req.keep_alive(true);
  req.prepare_payload();

  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto remaining = [&] {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    return left.count() > 0 ? left : std::chrono::milliseconds(1);
  };

  // Beast's stream timeouts apply to asynchronous operations only: run each
  // step asynchronously and wait for it on this object's own io_context.
  auto wait = [&](beast::error_code& ec) {
    conn.io.restart();
    conn.io.run();
    return ec;
  };

  // A kept-alive connection the server has closed in the meantime fails on
  // the first write or read: that is no outage, so try once more on a fresh
  // connection. A fresh connection that fails is the answer.
  for (int attempt = 0;; ++attempt) {
    const bool reused = conn.open;
    beast::error_code ec;
    if (!conn.open) {
      tcp::resolver resolver(conn.io);
      auto results = resolver.resolve(conn.endpoint.host, conn.endpoint.port, ec);
      if (ec)
        throw http_unreachable("cannot resolve " + conn.endpoint.host + ": " + ec.message());
      conn.stream.expires_after(remaining());
      conn.stream.async_connect(results, [&](beast::error_code e, const tcp::endpoint&) {
        ec = e;
      });
      if (wait(ec)) {
        conn.close();
        throw http_unreachable("cannot connect to " + m_base_url + ": " + ec.message());
      }
      conn.stream.socket().set_option(tcp::no_delay(true), ec);
      conn.open = true;
    }
    conn.stream.expires_after(remaining());
    http::async_write(conn.stream, req, [&](beast::error_code e, std::size_t) { ec = e; });
    wait(ec);
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 * 1024 * 1024);
    // A HEAD answer has a Content-Length but no body: do not wait for one.
    if (method == "HEAD") parser.skip(true);
    if (!ec) {
      http::async_read(conn.stream, conn.buffer, parser,
                       [&](beast::error_code e, std::size_t) { ec = e; });
      wait(ec);
    }
    if (ec) {
      conn.close();
      const bool stale = reused && attempt == 0 && ec != beast::error::timeout;
      if (stale) continue;
      if (ec == beast::error::timeout)
        throw http_unreachable(method + " " + target + " to " + m_base_url + " timed out");
      throw http_unreachable(method + " " + target + " to " + m_base_url + " failed: " +
                             ec.message());
    }
    auto res = parser.release();
    http_response out;
    out.status = static_cast<int>(res.result_int());
    out.raw_body = std::move(res.body());
    for (const auto& field : res) out.headers[lower(std::string(field.name_string()))] =
        std::string(field.value());
    if (!out.raw_body.empty()) {
      out.body = nlohmann::json::parse(out.raw_body, nullptr, false);
      if (out.body.is_discarded()) out.body = nullptr;
    }
    if (!res.keep_alive()) conn.close();
    return out;
  }
}

}  // namespace agentq
