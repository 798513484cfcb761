#pragma once
// The pure request handler of `agentq serve`: a request in, a response out.
// Routing, authentication, role checks, validation (agentq::parse_* of
// core/requests.hpp), the calls into the store and the mapping of refusals to
// the contract's {"error": {"code", "message"}} bodies all live here; no
// socket, no Beast, no threads. The listener (listener.cpp) moves bytes, the
// claim waiters park long-polls, and tests call handle() directly.
//
// The routes themselves are a table (routes/route_table.cpp) of functions in
// files by noun (routes/*.cpp). A long-poll claim that found nothing answers
// `park`: the caller parks the claim and retries it with claim_now() when a
// task may have come. A route that needs git answers a git_step (below).

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/backoff.hpp"
#include "core/refusal.hpp"
#include "core/repo_url_policy.hpp"
#include "store/store.hpp"
#include "core/defaults.hpp"

namespace agentq {
namespace git {
class repo_gateway;
}
class merger;
class server_metrics;
class empty_claims;
class auth_cache;

inline constexpr std::size_t max_body_bytes = 1024 * 1024;  // larger: 413

struct http_request {
  std::string method;         // "GET", "POST", "DELETE", ...
  std::string target;         // path and query: "/v1/tasks?state=queued"
  std::string authorization;  // the Authorization header's value, or ""
  std::string body;
  bool body_too_large = false;  // the transport stopped reading at max_body_bytes
};

struct http_reply {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;  // e.g. Retry-After
};

// A claim to retry later: who asked, for what, until when.
struct parked_claim {
  agent_identity agent;
  std::vector<std::string> queues;
  int lease_s = defaults::lease_s;
  int wait_s = 0;
};

// What became of a git step's work.
struct git_outcome {
  nlohmann::json value;              // the work's answer, when it succeeded
  std::optional<std::string> error;  // why it failed (no credentials in it)
  bool timed_out = false;            // the repository did not answer in time
};

// Git work a route needs after its database step: the submit check, diff
// stats, landing a merge. It must not run on a request's database thread,
// because a remote that does not answer would hold the connection: the
// server runs `work` on its git executor under the git deadline, and `then`
// back on a database thread. Without an executor (tests) handle() runs both
// inline.
struct git_step {
  std::string repo_name;   // names the repository in logs and in a 503
  std::string remote_key;  // the executor's per-remote cap groups by this
  // No database here; throws on failure (agentq::git::timeout when the
  // deadline passed). deadline: the executor's; nullopt: the gateway's own.
  std::function<nlohmann::json(std::optional<std::chrono::steady_clock::time_point> deadline)>
      work;
  // The answer; may throw `refused`. get_store: the database thread's store.
  std::function<http_reply(const git_outcome&, const std::function<store&()>& get_store)> then;
};

// A long-poll of the event feed (GET /v1/events?wait_s=) that found nothing
// past its cursor yet: the server's event_waiters answer it.
struct parked_events {
  std::int64_t after = 0;
  int limit = 100;
  int wait_s = 0;
};

struct handler_result {
  http_reply reply;
  std::string route;                 // the route's label, for logs and metrics
  std::optional<parked_claim> park;  // set: nothing yet; park the claim
  std::optional<parked_events> wait_for_events;  // set: nothing yet; park the poll
  std::optional<git_step> git;       // set by begin(): run it, then finish_git()
  bool database_failed = false;      // the store's connection failed: drop it
  // The failure was the connection breaking (docs/api.md, "Retries"): the
  // caller drops it and runs the request once more on a fresh connection
  // when nothing can have committed, or when the commit is in doubt and
  // the request is safe to repeat (safe_to_repeat()).
  bool connection_broke = false;
  bool commit_in_doubt = false;
};

struct handler_config {
  std::optional<std::string> admin_token;  // AGENTQ_ADMIN_TOKEN; none: admin API off
  int default_lease_s = defaults::lease_s;  // agentq serve --lease-s
  int first_lease_s = defaults::first_lease_s;  // agentq serve --first-lease-s (0: off)
  backoff_policy backoff;                  // agentq serve --retry-backoff-s
  int retry_after_s = 2;                   // Retry-After of a 503
  repo_url_policy repo_urls;  // which repository URLs POST /v1/repos accepts
};

// What the handler calls besides the store. Null members are absent.
struct handler_services {
  git::repo_gateway* gateway = nullptr;  // submit: is the commit the branch's tip?
  agentq::merger* merger = nullptr;      // approve: land the merge
  server_metrics* metrics = nullptr;     // counters; /metrics
  // /metrics: the open long-polls right now.
  std::function<std::size_t()> open_long_polls;
  // Claims that came back empty since anything changed: a long-poll like
  // one of them parks without a query (http/empty_claims.hpp).
  empty_claims* empty_claims_memory = nullptr;
  // Tokens the database accepted moments ago: authenticated without a query
  // (http/auth_cache.hpp); revoking an agent forgets its tokens at once.
  auth_cache* auth = nullptr;
};

class request_handler {
 public:
  explicit request_handler(handler_config config, handler_services services = {});

  // The whole answer, running a git step inline. The store is asked for only
  // when the route needs the database, so /healthz and unknown routes answer
  // without one. get_store may throw (no connection): the answer is then 503.
  handler_result handle(const http_request& request, const std::function<store&()>& get_store);
  handler_result handle(const http_request& request, store& db) {
    return handle(request, [&]() -> store& { return db; });
  }

  // The server's first half: like handle(), but a route that needs git
  // leaves result.git set (and no reply yet) for the caller to run.
  handler_result begin(const http_request& request, const std::function<store&()>& get_store);
  // The second half: the answer from the git work's outcome.
  handler_result finish_git(const std::string& route, const git_step& step,
                            const git_outcome& outcome,
                            const std::function<store&()>& get_store);
  // Runs a step's work here and now, catching what it throws.
  static git_outcome run_git_work(
      const git_step& step,
      std::optional<std::chrono::steady_clock::time_point> deadline = std::nullopt);

  // Whether handle() would ask for the store at all (false: answer inline).
  static bool needs_database(const http_request& request);

  // Whether the request may run again after a failure that left its commit
  // in doubt (http/retry_policy.cpp): a holder's calls answer a repeat of a
  // landed call with the same success, an add with an idempotency key finds
  // its task, and a repeated claim costs at most a short first lease.
  static bool safe_to_repeat(const http_request& request);
  // Whether a result's failure is one to run the request again for, once,
  // on a fresh connection.
  static bool worth_one_retry(const handler_result& result, const http_request& request);

  // The request's label for logs and metrics: "POST /v1/tasks/{id}/submit",
  // and "other" for anything that is not a route (a fixed set of values).
  static std::string route_of(const std::string& method, const std::string& target);

  // Retries a parked claim: the claim answer, or nullopt when nothing came.
  // Throws what the store throws (database_unavailable).
  std::optional<http_reply> claim_now(const parked_claim& claim, store& db);
  // Retries parked claims of one role and queue filter in one statement
  // (store::claim_batch): one answer slot per claimant, nullopt for nothing.
  struct batch_replies {
    std::vector<std::optional<http_reply>> replies;
    bool filter_empty = false;  // as batch_claim::filter_empty
  };
  batch_replies claim_batch(agent_role role, const std::vector<std::string>& queues,
                            const std::vector<batch_claimant>& claimants, store& db);

  // The answer that ends a long-poll without a task.
  static http_reply no_content();
  http_reply unavailable(const std::string& message) const;
  static http_reply error(const refusal& why);

  const handler_config& config() const { return m_config; }
  const handler_services& services() const { return m_services; }

 private:
  handler_result dispatch(const http_request& request, const std::function<store&()>& get_store);
  // Runs `answer` and maps what it throws to the reply.
  template <typename Answer>
  void answer_guarded(handler_result& result, const Answer& answer);
  // Counts a granted claim (and a lease it took over) on /metrics.
  void count_granted(const claim_grant& grant);

  handler_config m_config;
  handler_services m_services;
};

}  // namespace agentq
