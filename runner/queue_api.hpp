#pragma once
// The calls a runner makes (docs/api.md §5), over agentq::http_client. One
// object holds one connection and is used by one thread at a time: a job and
// its lease keeper each have their own.

#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "http_client.hpp"
#include "runner/lease_keeper.hpp"

namespace agentq::runner {

// The server turned the runner away for good: 401 (token), 403 (role), 400.
struct api_refused : std::runtime_error {
  api_refused(int status, const std::string& message)
      : std::runtime_error(message), status(status) {}
  int status;
};

// The answer to a holder's call (submit, release, review).
struct holder_reply {
  int status = 0;  // 0: the server was never reached
  nlohmann::json body;
  std::string error;  // the error code, or what went wrong
  bool ok() const { return status == 200; }
  bool conflict() const { return status == 409; }  // the claim is gone
};

class queue_api {
 public:
  queue_api(const std::string& server, const std::string& token);

  // POST /v1/claims: the claim answer, or nullopt after wait_s without work.
  // The role of this token ("worker", "reviewer", "admin"), from GET
  // /v1/whoami; nullopt from a server without that route. Throws
  // http_unreachable, or api_refused for a token the server refuses.
  std::optional<std::string> whoami_role();

  // Throws http_unreachable, api_refused, or std::runtime_error (5xx).
  std::optional<nlohmann::json> claim(const std::vector<std::string>& queues, int wait_s,
                                      std::optional<int> lease_s);

  heartbeat_reply heartbeat(std::int64_t task_id, std::int64_t token, const std::string& progress,
                            std::chrono::milliseconds limit);

  // Holder calls; retried while the server is unreachable or answers 503,
  // for at most `patience`. Never throw.
  holder_reply submit(std::int64_t task_id, std::int64_t token, const std::string& branch,
                      const std::string& commit, const std::string& summary,
                      std::chrono::seconds patience = std::chrono::seconds(60));
  // charge_attempt false: the release is the runner's fault, not the task's
  // (its agent could not run), docs/api.md "Runner health".
  holder_reply release(std::int64_t task_id, std::int64_t token, const std::string& reason,
                       bool retry, bool charge_attempt = true,
                       std::chrono::seconds patience = std::chrono::seconds(60));
  // POST /v1/agents/me/status: "healthy" or "unhealthy" and why. One try,
  // bounded; answers whether the server took it.
  bool report_status(const std::string& status, const std::string& reason);
  holder_reply review(std::int64_t task_id, std::int64_t token, bool approve,
                      const std::string& reasons,
                      std::chrono::seconds patience = std::chrono::seconds(60));

 private:
  holder_reply holder_call(const std::string& target, const nlohmann::json& body,
                           std::chrono::seconds patience);
  http_client m_http;
};

// "what the server said" for logs and errors: "409 stale_token: message".
std::string describe(const http_response& response);

}  // namespace agentq::runner
