// Which requests the server runs a second time after its database connection
// broke under them (docs/api.md, "Retries"). One killed backend, a pooler's
// restart or a failover drops connections of a database that is up: the
// caller should not see 503 for that.
//
// When the break came before any COMMIT was sent, nothing was written and any
// request may run again. When it came during the COMMIT (libpq lost the
// answer), the work may have landed: only requests whose repeat answers the
// same success run again; the others answer 503 and the client decides.
#include <nlohmann/json.hpp>

#include "http/handler.hpp"

namespace agentq {

bool request_handler::safe_to_repeat(const http_request& request) {
  if (request.method == "GET" || request.method == "HEAD") return true;  // reads
  const std::string route = route_of(request.method, request.target);
  // A holder's calls find what a landed call with their token did and answer
  // the same (store/retried_calls.cpp; approve finds its merge).
  if (route == "POST /v1/tasks/{id}/heartbeat" || route == "POST /v1/tasks/{id}/submit" ||
      route == "POST /v1/tasks/{id}/release" || route == "POST /v1/tasks/{id}/review")
    return true;
  // A claim that landed unseen holds its task only for the short first lease
  // (nobody heartbeats it), then the task is claimable again.
  if (route == "POST /v1/claims") return true;
  // An add with an idempotency key answers the task the first one made.
  if (route == "POST /v1/tasks") {
    auto body = nlohmann::json::parse(request.body, nullptr, false);
    return body.is_object() && body.contains("idempotency_key") &&
           body["idempotency_key"].is_string();
  }
  return false;
}

bool request_handler::worth_one_retry(const handler_result& result,
                                      const http_request& request) {
  if (!result.database_failed || !result.connection_broke) return false;
  return !result.commit_in_doubt || safe_to_repeat(request);
}

}  // namespace agentq
