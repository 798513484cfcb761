#include "runner/queue_api.hpp"

#include <thread>

#include <spdlog/spdlog.h>

#include "core/log_text.hpp"
#include "core/requests.hpp"
#include "runner/output_tail.hpp"

namespace agentq::runner {

using nlohmann::json;
using namespace std::chrono_literals;

std::string describe(const http_response& response) {
  std::string out = std::to_string(response.status);
  if (auto code = response.error_code(); !code.empty()) out += " " + code;
  if (auto message = response.error_message(); !message.empty()) out += ": " + message;
  return out;
}

queue_api::queue_api(const std::string& server, const std::string& token) : m_http(server, token) {}

std::optional<std::string> queue_api::whoami_role() {
  auto response = m_http.request("GET", "/v1/whoami", nullptr, 15s);
  if (response.status == 200 && response.body.is_object())
    return response.body.value("role", std::string());
  if (response.status == 401)
    throw api_refused(401, "the server refused the token (401 " + response.error_code() +
                               "): check AGENTQ_TOKEN");
  return std::nullopt;  // an older server: the first claim tells instead
}

std::optional<json> queue_api::claim(const std::vector<std::string>& queues, int wait_s,
                                     std::optional<int> lease_s) {
  json body = {{"wait_s", wait_s}};
  if (!queues.empty()) body["queues"] = queues;
  if (lease_s) body["lease_s"] = *lease_s;
  auto response = m_http.request("POST", "/v1/claims", body, std::chrono::seconds(wait_s) + 15s);
  if (response.status == 200) return response.body;
  if (response.status == 204) return std::nullopt;
  if (response.status == 401)
    throw api_refused(401, "the server refused the token (401 " + response.error_code() +
                               "): check AGENTQ_TOKEN");
  if (response.status == 403)
    throw api_refused(403, "the server refused this agent's role (403): " + describe(response));
  if (response.status >= 400 && response.status < 500)
    throw api_refused(response.status, "the server refused the claim request: " + describe(response));
  throw std::runtime_error("claim failed: " + describe(response));
}

heartbeat_reply queue_api::heartbeat(std::int64_t task_id, std::int64_t token,
                                     const std::string& progress, std::chrono::milliseconds limit) {
  json body = {{"token", token}};
  if (!progress.empty()) body["progress"] = sanitize_text(redact_credentials(progress), 1000);
  heartbeat_reply reply;
  try {
    auto response = m_http.request("POST", "/v1/tasks/" + std::to_string(task_id) + "/heartbeat",
                                   body, std::min<std::chrono::milliseconds>(limit, 15s));
    if (response.status == 200) {
      reply.outcome = heartbeat_reply::kind::renewed;
    } else if (response.status >= 500) {
      reply.outcome = heartbeat_reply::kind::unavailable;
      reply.detail = describe(response);
    } else {
      reply.outcome = heartbeat_reply::kind::refused;
      reply.detail = describe(response);
    }
  } catch (const http_unreachable& e) {
    reply.outcome = heartbeat_reply::kind::unavailable;
    reply.detail = e.what();
  } catch (const std::exception& e) {
    reply.outcome = heartbeat_reply::kind::unavailable;
    reply.detail = e.what();
  }
  return reply;
}

holder_reply queue_api::holder_call(const std::string& target, const json& body,
                                    std::chrono::seconds patience) {
  auto give_up = std::chrono::steady_clock::now() + patience;
  auto pause = 500ms;
  for (;;) {
    holder_reply reply;
    try {
      auto response = m_http.request("POST", target, body, 30s);
      reply.status = response.status;
      reply.body = response.body;
      if (response.status != 200) reply.error = describe(response);
      if (response.status != 503 && response.status != 502 && response.status != 504) return reply;
    } catch (const std::exception& e) {
      reply.status = 0;
      reply.error = e.what();
    }
    if (std::chrono::steady_clock::now() + pause >= give_up) return reply;
    spdlog::warn("event=server_retry target={} error=\"{}\"", target, reply.error);
    std::this_thread::sleep_for(pause);
    pause = std::min<std::chrono::milliseconds>(pause * 2, 5s);
  }
}

holder_reply queue_api::submit(std::int64_t task_id, std::int64_t token, const std::string& branch,
                               const std::string& commit, const std::string& summary,
                               std::chrono::seconds patience) {
  json body = {{"token", token}, {"branch", branch}, {"commit", commit},
               {"summary", sanitize_text(redact_credentials(summary), limits::text_max)}};
  return holder_call("/v1/tasks/" + std::to_string(task_id) + "/submit", body, patience);
}

holder_reply queue_api::release(std::int64_t task_id, std::int64_t token, const std::string& reason,
                                bool retry, bool charge_attempt, std::chrono::seconds patience) {
  json body = {{"token", token}, {"reason", sanitize_text(redact_credentials(reason), limits::text_max)},
               {"retry", retry}};
  if (!charge_attempt) body["charge_attempt"] = false;  // docs/api.md "Runner health"
  return holder_call("/v1/tasks/" + std::to_string(task_id) + "/release", body, patience);
}

bool queue_api::report_status(const std::string& status, const std::string& reason) {
  json body = {{"status", status}, {"reason", sanitize_text(redact_credentials(reason), 4096)}};
  try {
    return m_http.request("POST", "/v1/agents/me/status", body, 15s).status == 200;
  } catch (const std::exception&) {
    return false;  // unreachable: the next change of health tries again
  }
}

holder_reply queue_api::review(std::int64_t task_id, std::int64_t token, bool approve,
                               const std::string& reasons, std::chrono::seconds patience) {
  json body = {{"token", token}, {"verdict", approve ? "approve" : "reject"},
               {"reasons", sanitize_text(redact_credentials(reasons), limits::text_max)}};
  return holder_call("/v1/tasks/" + std::to_string(task_id) + "/review", body, patience);
}

}  // namespace agentq::runner
