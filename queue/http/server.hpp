#pragma once
// `agentq serve`: wires the pieces together and runs until SIGTERM/SIGINT.
//
//   listener (Beast, I/O thread) ──request──▶ db_pool (N threads, a store each)
//        ▲                                      │  request_handler::handle()
//        └──────────answer (any thread)─────────┤
//                                               └─ nothing yet, wait_s > 0 ─▶ claim_waiters
//   claimable_listener (LISTEN agentq_claimable) ─queue─▶ claim_waiters ─drain job─▶ db_pool
//   reaper, merger: their own threads
//   git_executor (git/git_executor.hpp): the server's git, off the database
//   threads, each job with a deadline (git_timeout_s) and a cap per remote
//
// Shutdown: stop accepting, answer parked long-polls with 204, let in-flight
// requests finish (bounded), then stop.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include "core/defaults.hpp"
#include "core/repo_url_policy.hpp"

namespace agentq {

struct server_config {
  std::string database_url = defaults::database_url;  // AGENTQ_DATABASE_URL
  std::string listen = defaults::listen;  // AGENTQ_LISTEN; port 0: any free
  std::optional<std::string> admin_token;              // AGENTQ_ADMIN_TOKEN
  int lease_s = defaults::lease_s;        // default claim lease
  int db_pool = 8;                                     // database connections for requests
  int retry_backoff_s = 5;                             // base of a released task's backoff
  std::filesystem::path git_cache = ".agentq/server-git";  // mirrors for checks and merges
  int shutdown_grace_s = 30;  // longest wait for in-flight requests at shutdown
  int git_timeout_s = 30;     // deadline of every network git operation (and its queue wait)
  int git_threads = 4;        // the git executor's threads (queue/git/git_executor.hpp)
  int git_per_remote = 2;     // git operations of one remote running at once
  bool keep_task_branches = false;  // true: the merger leaves agentq/<id>/<token> branches
  repo_url_policy repo_urls;  // AGENTQ_REPO_ROOTS, AGENTQ_ALLOW_PRIVATE_REPO_HOSTS
  int first_lease_s = defaults::first_lease_s;  // a claim's lease until its first heartbeat
  // Retention (services/retention.hpp): finished tasks older than this are
  // deleted with their rows; nullopt: kept (--retain-finished 0/off).
  std::optional<std::int64_t> retain_finished_s = defaults::retain_finished_s;
  // Tasks with disagreement entries: nullopt keeps them for ever.
  std::optional<std::int64_t> retain_disagreements_s;
  // How long a token the database accepted is believed without a query
  // (http/auth_cache.hpp); 0: a query on every call.
  int auth_cache_s = defaults::auth_cache_s;
};

// Runs the server until SIGTERM or SIGINT; answers the process exit code.
// Prints "listening on HOST:PORT" on stdout once it accepts connections.
int run_server(const server_config& config);

}  // namespace agentq
