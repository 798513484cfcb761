#pragma once
// A small blocking HTTP/1.1 client for agentq's JSON API (Boost.Beast), shared
// by the CLI and the runners. One keep-alive connection per client object;
// reconnects when the server closed it. Never logs the bearer token.

#include <chrono>
#include <map>
#include <memory>
#include <stdexcept>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace agentq {

struct http_response {
  int status = 0;
  nlohmann::json body;  // null when the body was empty or not JSON
  std::string raw_body;
  std::map<std::string, std::string> headers;  // lower-case names

  // The contract's error code ("stale_token", ...) or "" for a success.
  std::string error_code() const;
  std::string error_message() const;
};

// The server could not be reached, or the connection broke mid-request.
struct http_unreachable : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class http_client {
 public:
  // base_url: http://host:port (AGENTQ_SERVER). token: bearer token, or "".
  http_client(std::string base_url, std::string token);
  ~http_client();
  http_client(const http_client&) = delete;
  http_client& operator=(const http_client&) = delete;

  // method: "GET", "HEAD", "POST", "DELETE". body: sent as JSON unless null.
  // timeout: for the whole exchange (a long-poll passes wait_s plus slack).
  http_response request(const std::string& method, const std::string& target,
                        const nlohmann::json& body = nullptr,
                        std::chrono::milliseconds timeout = std::chrono::seconds(30));

  const std::string& base_url() const { return m_base_url; }

 private:
  struct connection;
  std::string m_base_url;
  std::string m_token;
  std::unique_ptr<connection> m_conn;
};

}  // namespace agentq
