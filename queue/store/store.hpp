#pragma once
// The store: the only code that talks to PostgreSQL, and the one place that
// changes task state. Each method is one transaction around named queries of
// sql/queries/ (embedded as agentq::sql::NAME); each transition is one
// guarded statement that checks the expected state and, for a holder's call,
// the fencing token, the holder and a live lease.
//
// Refusals (a stale token, an unknown id, a wrong state) are values: the
// method answers a refusal and nothing was written. Failures (the database is
// unreachable, the connection broke) throw agentq::database_unavailable
// (store/database_unavailable.hpp) from every method, the constructor too, for
// the caller to map to 503.
//
// A store owns one connection (inside store.cpp: no pqxx type reaches this
// header) and is not thread-safe: give each thread its own, or take one from
// the server's db_pool.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/backoff.hpp"
#include "core/refusal.hpp"
#include "core/requests.hpp"
#include "core/task_state.hpp"
#include "store/database_unavailable.hpp"
#include "store/repo_merge_lock.hpp"
#include "store/retention.hpp"
#include "store/stats.hpp"

namespace agentq {

// Who is calling. The bootstrap admin (AGENTQ_ADMIN_TOKEN) is no row of the
// agents table and has id 0.
struct agent_identity {
  std::int64_t id = 0;
  std::string name;
  agent_role role = agent_role::worker;
};

struct added_task {
  std::int64_t id = 0;
  nlohmann::json task;
  bool created = false;  // false: an earlier task with the same idempotency key
};

struct claim_grant {
  std::int64_t task_id = 0;
  std::int64_t token = 0;
  bool took_over_expired_lease = false;  // the task's previous lease ran out
  // The contract's claim answer: {task, claim, repo, feedback | submission}.
  nlohmann::json answer;
};

// One caller of a batched claim (store::claim_batch).
struct batch_claimant {
  agent_identity agent;
  int lease_s = 0;
};

// What a batched claim gave.
struct batch_claim {
  // One slot per claimant, in order; nullopt: nothing for that claimant. A
  // reviewer left without a task while another got one may still have one
  // (the others' tasks were its own work): ask again.
  std::vector<std::optional<claim_grant>> grants;
  // Every agent of this role with this filter would find nothing now (a
  // worker's batch that came back short; a reviewer's batch that found no
  // submission waiting for anyone).
  bool filter_empty = false;
};

struct state_change {
  task_state state = task_state::queued;
  nlohmann::json task;
};

struct released_claim : state_change {
  // false: the runner's fault, the attempt given back (docs/api.md "Runner
  // health"); true for every release past uncharged_releases_max.
  bool charged_attempt = true;
};

struct rejection {
  task_state state = task_state::queued;  // queued or needs_human
  nlohmann::json task;
  std::int64_t disagreement_id = 0;
};

// What the merger needs to land an approved submission.
struct merge_job {
  std::int64_t id = 0;
  std::int64_t task_id = 0;
  std::string status;  // pending | merged | conflict
  std::string commit;
  std::optional<std::string> merge_commit;
  std::optional<std::string> detail;
  std::int64_t repo_id = 0;
  std::string repo_name;
  std::string repo_url;
  std::string base_branch;
  std::string title;
  std::string branch;
  std::string worker;
};

struct task_page {
  nlohmann::json tasks = nlohmann::json::array();
  std::optional<std::int64_t> next;  // pass as `after` for the next page
};

class store {
 public:
  // Connects now; throws database_unavailable when it cannot.
  explicit store(const std::string& database_url);
  ~store();
  store(store&&) noexcept;
  store& operator=(store&&) noexcept;

  // Tests move time instead of sleeping: every time-dependent query takes
  // coalesce($now, now()). An RFC 3339 time pins the clock; nullopt frees it.
  void set_clock(std::optional<std::string> now);

  // Tasks
  outcome<added_task> add_task(const new_task& task, const std::string& actor);
  // Summaries (no body, its size as body_bytes) unless with_body.
  task_page list_tasks(std::optional<task_state> state, std::optional<std::string> queue,
                       int limit, std::optional<std::int64_t> after, bool with_body = false);
  outcome<nlohmann::json> get_task(std::int64_t id);  // {task, claims, submissions, ...}
  outcome<state_change> cancel(std::int64_t id, const std::string& actor,
                               const std::optional<std::string>& reason);
  outcome<state_change> requeue(std::int64_t id, const std::string& actor,
                                const std::optional<std::string>& note);

  // Claims. Up to `limit` tasks for the agent's role, each with a new token.
  // first_lease_s > 0: the lease runs that long (if shorter than lease_s)
  // until the first heartbeat makes it lease_s (docs/api.md §5).
  std::vector<claim_grant> claim(const agent_identity& agent,
                                 const std::vector<std::string>& queues, int lease_s,
                                 int limit = 1, int first_lease_s = 0);
  // A batched claim (store/claim_batch.cpp): one statement claims up to one
  // task for each claimant (agents of one role, with one queue filter),
  // exactly as one claim(limit 1) per claimant in that order would: each
  // task its own token, claims row and events.
  batch_claim claim_batch(agent_role role, const std::vector<std::string>& queues,
                          const std::vector<batch_claimant>& claimants, int first_lease_s = 0);
  outcome<std::string> heartbeat(std::int64_t task_id, const heartbeat_request& request,
                                 const agent_identity& agent);  // -> lease_expires_at
  outcome<nlohmann::json> submit(std::int64_t task_id, const submit_request& request,
                                 const agent_identity& agent);
  // With request.charge_attempt false the release is the runner's fault, not
  // the task's: the attempt is given back, unless the task was given back so
  // uncharged_releases_max times already (then it is an ordinary release).
  outcome<released_claim> release(std::int64_t task_id, const release_request& request,
                                  const agent_identity& agent, const backoff_policy& backoff);
  // Runner health (issue 15; queue/store/runner_health.cpp).
  // A runner's last reported health: {name, status, reason, at}.
  outcome<nlohmann::json> set_runner_status(const agent_identity& agent,
                                            const runner_status_request& request);
  static constexpr int uncharged_releases_max = 10;

  outcome<rejection> reject(std::int64_t task_id, const review_request& request,
                            const agent_identity& agent);
  // Records the approval and a pending merge; answers the merge's id. A
  // repeated call with the same token answers the same merge.
  outcome<std::int64_t> approve(std::int64_t task_id, const review_request& request,
                                const agent_identity& agent);

  // A person approves the last submission of a needs_human task (overriding
  // the reviewer): records a pending merge and a resolved human_override
  // entry in the disagreement log. Answers the merge's id.
  outcome<std::int64_t> approve_as_human(std::int64_t task_id, const std::string& person,
                                         const std::optional<std::string>& note);

  // Merges (the merger service drives these).
  std::optional<merge_job> get_merge(std::int64_t merge_id);
  std::vector<std::int64_t> list_pending_merges(int min_age_s, int limit);
  // Finish a pending merge; nullopt if it was no longer pending.
  std::optional<nlohmann::json> finish_merge_merged(std::int64_t merge_id,
                                                    const std::string& merge_commit,
                                                    const std::string& actor);
  std::optional<nlohmann::json> finish_merge_conflict(std::int64_t merge_id,
                                                      const std::string& detail,
                                                      const std::string& actor);

  // The reaper: return up to `limit` expired claims to their queue.
  int reap_expired(int limit);

  // Agents and repositories
  outcome<nlohmann::json> add_agent(const new_agent& agent);  // {name, role, token}
  std::optional<agent_identity> authenticate(const std::string& bearer_token);
  nlohmann::json list_agents();
  outcome<nlohmann::json> revoke_agent(const std::string& name);
  outcome<nlohmann::json> add_repo(const new_repo& repo);
  nlohmann::json list_repos();

  // The disagreement log
  // Newest first; after: only ids below it.
  nlohmann::json list_disagreements(const std::string& status, int limit,
                                    std::optional<std::int64_t> after = std::nullopt);
  outcome<nlohmann::json> get_disagreement(std::int64_t id);
  outcome<nlohmann::json> resolve_disagreement(std::int64_t id, const resolve_request& request,
                                               const std::string& by);

  // The server's read-only questions (store/stats.cpp): the numbers behind
  // /metrics, and whose claim a task holds and where its repository is
  // (nullopt: no such task).
  agentq::queue_stats queue_stats();
  std::optional<agentq::submit_target> submit_target(std::int64_t task_id);

  // The schema version the database is at (store/migrator.cpp); nullopt if
  // agentq never migrated it. latest_schema_version() is what this build needs.
  std::optional<int> schema_version();

  // The repository's merge lock across all servers (store/repo_merge_lock.hpp),
  // on a connection of the guard's own; waits while another holder has it.
  repo_merge_lock lock_repo_for_merge(std::int64_t repo_id);

  // The queue's guarantees checked against what the database holds
  // (store/invariants.cpp): after any run, each violation found is described
  // in a line; empty means the history is consistent:
  //   * each task's events form one chain (from_state = the previous
  //     to_state) from its 'added' event to the task's state, and every
  //     step is a transition of the state machine (queue/core/task_state.hpp);
  //     the chains are checked per task, so retention, which deletes a
  //     task with all of its events, leaves every other chain whole;
  //   * each task's claims carry strictly increasing tokens;
  //   * at most one live claim per task, and it is the one the task names;
  //   * every done task has exactly one landed merge, and no task has two.
  std::vector<std::string> check_invariants();

  // People's views (store/agreement.cpp): the agreement table of the
  // disagreement log (sql/queries/agreement_stats.sql), the event history
  // after a cursor, and a person's rewrite of a task's description (the old
  // text stays in the history), optionally requeueing it in one transaction.
  nlohmann::json agreement_stats();  // {workers, reviewers, repos}
  nlohmann::json events_after(std::int64_t after, int limit);  // {events, last_id}
  outcome<state_change> amend_task(std::int64_t id, const amend_request& request,
                                   const std::string& actor);

  // Retention (store/retention.cpp, issue 13): deletes one batch of old
  // finished tasks, each with every row that belongs to it, in one short
  // transaction that skips rows others hold; never an unfinished task.
  retention_batch delete_finished_tasks(const retention_policy& policy);

  // The server's auth cache refresh (store/token_check.cpp): of these token
  // hashes (hex SHA-256), the live agents' (not revoked), by hash. One
  // statement, however many hashes.
  std::map<std::string, agent_identity> live_agents_by_token_hash(
      const std::vector<std::string>& token_hashes);

  struct impl;  // store/store_impl.hpp, for the store's own files

 private:
  // Why a holder's guarded statement changed nothing: never "ok".
  refusal diagnose_holder_call(std::int64_t task_id, std::int64_t token,
                               const agent_identity& agent, task_state expected);

  std::unique_ptr<impl> m_impl;
};

// "{1,2,3}" and "{\"a\",\"b\"}": arrays as PostgreSQL array literals, for
// parameters cast with ::bigint[] / ::text[].
std::string to_pg_array(const std::vector<std::int64_t>& values);
std::string to_pg_array(const std::vector<std::string>& values);

}  // namespace agentq
