#include "store/store.hpp"

#include <cstdint>

#include <agentq/sql.hpp>

#include "core/secrets.hpp"
#include "store/store_impl.hpp"

namespace agentq {
namespace {

using json = nlohmann::json;
using store_detail::as_json;
using store_detail::rethrow_as_unavailable;
using store_detail::run;

task_state state_of(const pqxx::field& field) {
  auto state = parse_task_state(field.c_str());
  if (!state) throw std::runtime_error(std::string("unknown task state ") + field.c_str());
  return *state;
}

refusal task_not_found(std::int64_t id) {
  return refuse(error_code::not_found, "no task " + std::to_string(id));
}

// Why a person's transition changed nothing: the task is unknown, or its
// state is not one the transition leaves (`allowed` says which are).
refusal wrong_state(pqxx::transaction_base& tx, std::int64_t id, const std::string& allowed) {
  auto current = run(tx, sql::tasks_state, id);
  if (current.empty()) return task_not_found(id);
  return refuse(error_code::invalid_state, "task " + std::to_string(id) + " is " +
                                               current[0][0].c_str() + "; " + allowed);
}

std::optional<std::string> non_empty_array(const std::vector<std::string>& values) {
  if (values.empty()) return std::nullopt;
  return to_pg_array(values);
}

}  // namespace

std::string to_pg_array(const std::vector<std::int64_t>& values) {
  std::string out = "{";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i) out += ',';
    out += std::to_string(values[i]);
  }
  return out + "}";
}

std::string to_pg_array(const std::vector<std::string>& values) {
  std::string out = "{";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i) out += ',';
    out += '"';
    for (char c : values[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out + "}";
}

namespace store_detail {

// libpq's own words when the socket closed under a statement (a killed
// backend whose FATAL message was lost, a server gone away): such a failure
// carries no SQLSTATE, and libpqxx 6 reports it as a plain failure.
bool says_connection_closed(const std::string& message) {
  for (const char* words : {"server closed the connection", "terminating connection",
                            "no connection to the server", "could not receive data from server",
                            "could not send data to server", "connection not open",
                            "Lost connection"})
    if (message.find(words) != std::string::npos) return true;
  return false;
}

bool is_connection_failure(const pqxx::sql_error& error) {
  const std::string& state = error.sqlstate();
  if (state.size() != 5) return says_connection_closed(error.what());  // libpq saw it itself
  return state.compare(0, 2, "08") == 0 || state.compare(0, 2, "53") == 0 ||
         state == "57P01" || state == "57P02" || state == "57P03";
}

void rethrow_as_unavailable() {
  try {
    throw;
  } catch (const pqxx::broken_connection& e) {
    throw database_unavailable(e.what(), true);
  } catch (const pqxx::in_doubt_error& e) {
    // The connection broke during a commit: whether it happened is unknown.
    throw database_unavailable(e.what(), true, true);
  } catch (const pqxx::sql_error& e) {
    if (is_connection_failure(e)) throw database_unavailable(e.what(), true);
    // A statement failed on a live connection. It is reported as unavailable
    // (503) with its own message, as every pqxx failure was before the store
    // had an exception of its own; issue 10 narrows this, since a client's bad
    // input must never be reported as 503 (that one becomes a refusal).
    throw database_unavailable(e.what(), false);
  } catch (const pqxx::failure& e) {
    // The same for libpqxx's other failures (issue 10 narrows this too),
    // but for a connection that closed under the statement.
    throw database_unavailable(e.what(), says_connection_closed(e.what()));
  }
}

}  // namespace store_detail

store::store(const std::string& database_url) try
    : m_impl(std::make_unique<impl>(database_url)) {
} catch (...) {
  rethrow_as_unavailable();
}

store::~store() = default;
store::store(store&&) noexcept = default;
store& store::operator=(store&&) noexcept = default;

void store::set_clock(std::optional<std::string> now) { m_impl->now = std::move(now); }

// ---------------------------------------------------------------- tasks

outcome<added_task> store::add_task(const new_task& task, const std::string& actor) try {
  pqxx::work tx(m_impl->conn);
  auto repo = run(tx, sql::repos_get_by_name, task.repo);
  if (repo.empty())
    return refuse(error_code::invalid_request,
                  "no repository named '" + task.repo + "': add it first (agentq repo add)");
  if (!task.depends_on.empty()) {
    auto found = run(tx, sql::tasks_count_existing, to_pg_array(task.depends_on))[0][0]
                     .as<std::size_t>();
    if (found != task.depends_on.size())
      return refuse(error_code::invalid_request,
                    "'depends_on' names a task that does not exist (finished tasks are "
                    "deleted after agentq serve --retain-finished)");
  }
  auto inserted = run(tx, sql::tasks_insert, task.title, task.body, repo[0][0].as<std::int64_t>(),
                      task.queue, task.priority, task.run_after, task.max_attempts,
                      task.max_review_rounds, to_pg_array(task.depends_on), task.labels.dump(),
                      task.idempotency_key, actor, m_impl->now);
  added_task added;
  if (inserted.empty()) {
    // The key was taken: by a committed task, or by a concurrent insert that
    // has committed by now (ON CONFLICT waited for it).
    auto first = run(tx, sql::tasks_get_by_idempotency_key, task.idempotency_key);
    if (first.empty())
      return refuse(error_code::duplicate, "idempotency key in use by a task being added");
    added = {first[0][0].as<std::int64_t>(), as_json(first[0][1]), false};
  } else {
    added = {inserted[0][0].as<std::int64_t>(), as_json(inserted[0][1]), true};
  }
  tx.commit();
  return added;
} catch (...) {
  rethrow_as_unavailable();
}

task_page store::list_tasks(std::optional<task_state> state, std::optional<std::string> queue,
                            int limit, std::optional<std::int64_t> after, bool with_body) try {
  pqxx::read_transaction tx(m_impl->conn);
  std::optional<std::string> state_name;
  if (state) state_name = std::string(to_string(*state));
  auto rows = run(tx, sql::tasks_list, state_name, queue, limit + 1, after, with_body);
  task_page page;
  for (int i = 0; i < static_cast<int>(rows.size()) && i < limit; ++i)
    page.tasks.push_back(as_json(rows[i][1]));
  if (static_cast<int>(rows.size()) > limit) page.next = rows[limit - 1][0].as<std::int64_t>();
  return page;
} catch (...) {
  rethrow_as_unavailable();
}

outcome<json> store::get_task(std::int64_t id) try {
  pqxx::read_transaction tx(m_impl->conn);
  auto rows = run(tx, sql::tasks_get, id);
  if (rows.empty()) return task_not_found(id);
  return as_json(rows[0][0]);
} catch (...) {
  rethrow_as_unavailable();
}

outcome<state_change> store::cancel(std::int64_t id, const std::string& actor,
                                    const std::optional<std::string>& reason) try {
  pqxx::work tx(m_impl->conn);
  run(tx, sql::tasks_lock, id);
  auto rows = run(tx, sql::tasks_cancel, id, actor, reason, m_impl->now);
  if (rows.empty()) {
    auto current = run(tx, sql::tasks_state, id);
    if (current.empty()) return task_not_found(id);
    auto state = state_of(current[0][0]);
    if (is_final(state))
      return refuse(error_code::invalid_state,
                    "task " + std::to_string(id) + " is " + std::string(to_string(state)) +
                        " already");
    return refuse(error_code::invalid_state,
                  "task " + std::to_string(id) + " is being merged; it cannot be cancelled");
  }
  tx.commit();
  return state_change{task_state::cancelled, as_json(rows[0][0])};
} catch (...) {
  rethrow_as_unavailable();
}

outcome<state_change> store::requeue(std::int64_t id, const std::string& actor,
                                     const std::optional<std::string>& note) try {
  pqxx::work tx(m_impl->conn);
  run(tx, sql::tasks_lock, id);
  auto rows = run(tx, sql::tasks_requeue, id, actor, note, m_impl->now);
  if (rows.empty())
    return wrong_state(tx, id, "only needs_human (with no merge under way), failed or cancelled tasks can be requeued");
  tx.commit();
  return state_change{task_state::queued, as_json(rows[0][0])};
} catch (...) {
  rethrow_as_unavailable();
}

// ---------------------------------------------------------------- claims

std::vector<claim_grant> store::claim(const agent_identity& agent,
                                      const std::vector<std::string>& queues, int lease_s,
                                      int limit, int first_lease_s) try {
  if (agent.role != agent_role::worker && agent.role != agent_role::reviewer) return {};
  // No lock beyond the rows the statement takes: each task's tokens increase
  // because its row lock is held from the draw to the commit (docs/design.md §2).
  pqxx::work tx(m_impl->conn);
  auto query = agent.role == agent_role::worker ? sql::tasks_claim_worker
                                                : sql::tasks_claim_reviewer;
  const int first_s = first_lease_s > 0 && first_lease_s < lease_s ? first_lease_s : lease_s;
  if (queues.empty()) store_detail::prefer_generic_plan(tx);
  auto rows = run(tx, query, agent.id, agent.name, non_empty_array(queues), limit, lease_s,
                  m_impl->now, first_s);
  store_detail::close_taken_over_claims(tx, rows, m_impl->now);
  tx.commit();

  std::vector<claim_grant> grants;
  for (const auto& row : rows)
    grants.push_back(store_detail::claim_grant_of(row, agent, lease_s, first_s));
  return grants;
} catch (...) {
  rethrow_as_unavailable();
}

refusal store::diagnose_holder_call(std::int64_t task_id, std::int64_t token,
                                    const agent_identity& agent, task_state expected) try {
  pqxx::read_transaction tx(m_impl->conn);
  auto rows = run(tx, sql::claims_diagnose, task_id, m_impl->now);
  if (rows.empty()) return task_not_found(task_id);
  const auto& row = rows[0];
  const std::string id = std::to_string(task_id);
  if (row["claim_token"].is_null() || row["claim_token"].as<std::int64_t>() != token)
    return refuse(error_code::stale_token,
                  "token " + std::to_string(token) + " is not the live claim of task " + id +
                      " (superseded, expired or released); stop work on it and claim again");
  if (row["claim_agent_id"].as<std::int64_t>() != agent.id)
    return refuse(error_code::forbidden,
                  "token " + std::to_string(token) + " belongs to another agent's claim");
  if (row["merge_pending"].as<bool>())
    return refuse(error_code::invalid_state,
                  "task " + id + " was approved and is being merged");
  if (row["lease_expired"].as<bool>())
    return refuse(error_code::lease_expired,
                  "the lease of token " + std::to_string(token) + " on task " + id +
                      " has run out; stop work on it and claim again");
  auto state = state_of(row["state"]);
  return refuse(error_code::invalid_state,
                "task " + id + " is " + std::string(to_string(state)) + ", not " +
                    std::string(to_string(expected)) + ": this call is for the other role");
} catch (...) {
  rethrow_as_unavailable();
}

outcome<std::string> store::heartbeat(std::int64_t task_id, const heartbeat_request& request,
                                      const agent_identity& agent) try {
  pqxx::work tx(m_impl->conn);
  auto rows = run(tx, sql::tasks_heartbeat, task_id, request.token, agent.id, request.progress,
                  m_impl->now);
  if (rows.empty()) {
    tx.abort();
    auto expected = agent.role == agent_role::reviewer ? task_state::reviewing
                                                       : task_state::working;
    return diagnose_holder_call(task_id, request.token, agent, expected);
  }
  tx.commit();
  return std::string(rows[0][0].c_str());
} catch (...) {
  rethrow_as_unavailable();
}

outcome<json> store::submit(std::int64_t task_id, const submit_request& request,
                            const agent_identity& agent) try {
  pqxx::work tx(m_impl->conn);
  auto rows = run(tx, sql::tasks_submit, task_id, request.token, agent.id, request.branch,
                  request.commit, request.summary, agent.name, m_impl->now);
  if (rows.empty()) {
    // A retry of a submit that landed answers the same success; the same
    // token with another commit is refused (a claim hands in one commit).
    auto landed = store_detail::find_landed_call(tx, task_id, request.token, agent.id, "submitted");
    tx.abort();
    if (landed) {
      if (landed->detail.value("branch", "") == request.branch &&
          landed->detail.value("commit", "") == request.commit)
        return landed->task;
      return refuse(error_code::invalid_state,
                    "token " + std::to_string(request.token) + " already submitted commit " +
                        landed->detail.value("commit", "") + " of task " +
                        std::to_string(task_id) +
                        "; a claim hands in one commit: claim the task again to submit another");
    }
    return diagnose_holder_call(task_id, request.token, agent, task_state::working);
  }
  tx.commit();
  return as_json(rows[0][0]);
} catch (...) {
  rethrow_as_unavailable();
}

outcome<released_claim> store::release(std::int64_t task_id, const release_request& request,
                                       const agent_identity& agent,
                                       const backoff_policy& backoff) try {
  pqxx::work tx(m_impl->conn);
  // The attempt that is giving up decides the backoff. Reading it unlocked is
  // safe: it changes only when the task is claimed anew, and then the guarded
  // release below refuses the old token anyway.
  auto attempt = run(tx, sql::tasks_get_attempt, task_id);
  int backoff_s = attempt.empty() ? 0 : retry_backoff_s(attempt[0][0].as<int>(), backoff);
  auto rows = run(tx, sql::tasks_release, task_id, request.token, agent.id, request.reason,
                  request.retry, backoff_s, agent.name, m_impl->now, request.charge_attempt,
                  uncharged_releases_max);
  if (rows.empty()) {
    // A retry of a release that landed answers the state it went to.
    auto landed = store_detail::find_landed_call(tx, task_id, request.token, agent.id, "released");
    tx.abort();
    if (landed)
      return released_claim{{parse_task_state(landed->to_state).value(), landed->task},
                            landed->detail.value("charge_attempt", true)};
    auto expected = agent.role == agent_role::reviewer ? task_state::reviewing
                                                       : task_state::working;
    return diagnose_holder_call(task_id, request.token, agent, expected);
  }
  tx.commit();
  return released_claim{{state_of(rows[0][0]), as_json(rows[0][1])}, rows[0][2].as<bool>()};
} catch (...) {
  rethrow_as_unavailable();
}

outcome<rejection> store::reject(std::int64_t task_id, const review_request& request,
                                 const agent_identity& agent) try {
  pqxx::work tx(m_impl->conn);
  auto rows = run(tx, sql::tasks_reject, task_id, request.token, agent.id, request.reasons,
                  agent.name, m_impl->now);
  if (rows.empty()) {
    // A retry of a rejection that landed answers the same disagreement.
    auto landed = store_detail::find_landed_call(tx, task_id, request.token, agent.id, "rejected");
    tx.abort();
    if (landed)
      return rejection{parse_task_state(landed->to_state).value(), landed->task,
                       landed->detail.value("disagreement_id", std::int64_t{0})};
    return diagnose_holder_call(task_id, request.token, agent, task_state::reviewing);
  }
  tx.commit();
  return rejection{state_of(rows[0]["state"]), as_json(rows[0]["task"]),
                   rows[0]["disagreement_id"].as<std::int64_t>()};
} catch (...) {
  rethrow_as_unavailable();
}

outcome<std::int64_t> store::approve(std::int64_t task_id, const review_request& request,
                                     const agent_identity& agent) try {
  pqxx::work tx(m_impl->conn);
  auto rows = run(tx, sql::tasks_approve, task_id, request.token, agent.id, request.reasons,
                  agent.name, m_impl->now);
  if (rows.empty()) {
    // A retried approval (the answer was lost) finds the merge it recorded.
    auto earlier = run(tx, sql::merges_get_for_token, task_id, request.token);
    tx.abort();
    if (!earlier.empty()) return earlier[0][0].as<std::int64_t>();
    return diagnose_holder_call(task_id, request.token, agent, task_state::reviewing);
  }
  tx.commit();
  return rows[0][0].as<std::int64_t>();
} catch (...) {
  rethrow_as_unavailable();
}

outcome<std::int64_t> store::approve_as_human(std::int64_t task_id, const std::string& person,
                                              const std::optional<std::string>& note) try {
  pqxx::work tx(m_impl->conn);
  run(tx, sql::tasks_lock, task_id);
  auto rows = run(tx, sql::tasks_override_approve, task_id, person, note, m_impl->now);
  if (rows.empty())
    return wrong_state(tx, task_id,
                       "only a needs_human task with a submission that was never merged can be "
                       "approved by a person");
  tx.commit();
  return rows[0]["merge_id"].as<std::int64_t>();
} catch (...) {
  rethrow_as_unavailable();
}

// ---------------------------------------------------------------- merges

std::optional<merge_job> store::get_merge(std::int64_t merge_id) try {
  pqxx::read_transaction tx(m_impl->conn);
  auto rows = run(tx, sql::merges_get, merge_id);
  if (rows.empty()) return std::nullopt;
  const auto& row = rows[0];
  merge_job job;
  job.id = row["id"].as<std::int64_t>();
  job.task_id = row["task_id"].as<std::int64_t>();
  job.status = row["status"].c_str();
  job.commit = row["commit"].c_str();
  if (!row["merge_commit"].is_null()) job.merge_commit = row["merge_commit"].c_str();
  if (!row["detail"].is_null()) job.detail = row["detail"].c_str();
  job.repo_id = row["repo_id"].as<std::int64_t>();
  job.repo_name = row["repo_name"].c_str();
  job.repo_url = row["repo_url"].c_str();
  job.base_branch = row["base_branch"].c_str();
  job.title = row["title"].c_str();
  job.branch = row["branch"].c_str();
  job.worker = row["worker"].c_str();
  return job;
} catch (...) {
  rethrow_as_unavailable();
}

std::vector<std::int64_t> store::list_pending_merges(int min_age_s, int limit) try {
  pqxx::read_transaction tx(m_impl->conn);
  std::vector<std::int64_t> ids;
  for (const auto& row : run(tx, sql::merges_list_pending, min_age_s, limit, m_impl->now))
    ids.push_back(row[0].as<std::int64_t>());
  return ids;
} catch (...) {
  rethrow_as_unavailable();
}

std::optional<json> store::finish_merge_merged(std::int64_t merge_id,
                                               const std::string& merge_commit,
                                               const std::string& actor) try {
  pqxx::work tx(m_impl->conn);
  auto rows = run(tx, sql::merges_finish_merged, merge_id, merge_commit, actor, m_impl->now);
  tx.commit();
  if (rows.empty()) return std::nullopt;
  return as_json(rows[0][0]);
} catch (...) {
  rethrow_as_unavailable();
}

std::optional<json> store::finish_merge_conflict(std::int64_t merge_id, const std::string& detail,
                                                 const std::string& actor) try {
  pqxx::work tx(m_impl->conn);
  auto rows = run(tx, sql::merges_finish_conflict, merge_id, detail, actor, m_impl->now);
  tx.commit();
  if (rows.empty()) return std::nullopt;
  return as_json(rows[0][0]);
} catch (...) {
  rethrow_as_unavailable();
}

int store::reap_expired(int limit) try {
  pqxx::work tx(m_impl->conn);
  auto rows = run(tx, sql::tasks_reap_expired, limit, m_impl->now);
  tx.commit();
  return rows[0][0].as<int>();
} catch (...) {
  rethrow_as_unavailable();
}

// ---------------------------------------------------------------- agents, repos

outcome<json> store::add_agent(const new_agent& agent) try {
  const std::string token = generate_token();
  pqxx::work tx(m_impl->conn);
  auto rows = run(tx, sql::agents_insert, agent.name, std::string(to_string(agent.role)),
                  sha256_hex(token));
  if (rows.empty())
    return refuse(error_code::duplicate, "an agent named '" + agent.name + "' exists already");
  tx.commit();
  return json{{"name", agent.name}, {"role", to_string(agent.role)}, {"token", token}};
} catch (...) {
  rethrow_as_unavailable();
}

std::optional<agent_identity> store::authenticate(const std::string& bearer_token) try {
  pqxx::read_transaction tx(m_impl->conn);
  auto rows = run(tx, sql::agents_authenticate, sha256_hex(bearer_token));
  if (rows.empty()) return std::nullopt;
  return agent_identity{rows[0]["id"].as<std::int64_t>(), rows[0]["name"].c_str(),
                        parse_agent_role(rows[0]["role"].c_str()).value()};
} catch (...) {
  rethrow_as_unavailable();
}

json store::list_agents() try {
  pqxx::read_transaction tx(m_impl->conn);
  json agents = json::array();
  for (const auto& row : run(tx, sql::agents_list)) agents.push_back(as_json(row[0]));
  return agents;
} catch (...) {
  rethrow_as_unavailable();
}

outcome<json> store::revoke_agent(const std::string& name) try {
  pqxx::work tx(m_impl->conn);
  auto rows = run(tx, sql::agents_revoke, name);
  if (rows.empty()) return refuse(error_code::not_found, "no active agent named '" + name + "'");
  tx.commit();
  return json{{"name", name}, {"revoked", true}};
} catch (...) {
  rethrow_as_unavailable();
}

outcome<json> store::add_repo(const new_repo& repo) try {
  pqxx::work tx(m_impl->conn);
  auto rows = run(tx, sql::repos_insert, repo.name, repo.url, repo.base_branch);
  if (rows.empty())
    return refuse(error_code::duplicate, "a repository named '" + repo.name + "' exists already");
  tx.commit();
  return as_json(rows[0][0]);
} catch (...) {
  rethrow_as_unavailable();
}

json store::list_repos() try {
  pqxx::read_transaction tx(m_impl->conn);
  json repos = json::array();
  for (const auto& row : run(tx, sql::repos_list)) repos.push_back(as_json(row[0]));
  return repos;
} catch (...) {
  rethrow_as_unavailable();
}

// ---------------------------------------------------------------- disagreements

json store::list_disagreements(const std::string& status, int limit,
                               std::optional<std::int64_t> after) try {
  pqxx::read_transaction tx(m_impl->conn);
  json entries = json::array();
  for (const auto& row : run(tx, sql::disagreements_list, status, limit, after))
    entries.push_back(as_json(row[0]));
  return entries;
} catch (...) {
  rethrow_as_unavailable();
}

outcome<json> store::get_disagreement(std::int64_t id) try {
  pqxx::read_transaction tx(m_impl->conn);
  auto rows = run(tx, sql::disagreements_get, id);
  if (rows.empty()) return refuse(error_code::not_found, "no disagreement " + std::to_string(id));
  return as_json(rows[0][0]);
} catch (...) {
  rethrow_as_unavailable();
}

outcome<json> store::resolve_disagreement(std::int64_t id, const resolve_request& request,
                                          const std::string& by) try {
  pqxx::work tx(m_impl->conn);
  auto rows =
      run(tx, sql::disagreements_resolve, id, request.decision, request.note, by, m_impl->now);
  if (rows.empty()) {
    if (run(tx, sql::disagreements_exists, id).empty())
      return refuse(error_code::not_found, "no disagreement " + std::to_string(id));
    return refuse(error_code::invalid_state,
                  "disagreement " + std::to_string(id) + " is resolved already");
  }
  auto entry = run(tx, sql::disagreements_get, id);
  tx.commit();
  return as_json(entry[0][0]);
} catch (...) {
  rethrow_as_unavailable();
}

}  // namespace agentq
