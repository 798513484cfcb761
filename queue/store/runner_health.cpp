// Runner health (issue 15; docs/api.md "Runner health"): a release that is
// the runner's fault, not the task's, and the health a runner reports.
#include <agentq/sql.hpp>

#include "core/backoff.hpp"
#include "store/store.hpp"
#include "store/store_impl.hpp"

namespace agentq {

using nlohmann::json;
using store_detail::as_json;
using store_detail::rethrow_as_unavailable;
using store_detail::run;

outcome<state_change> store::release_uncharged(std::int64_t task_id,
                                               const release_request& request,
                                               const agent_identity& agent,
                                               const backoff_policy& backoff, bool& charged) try {
  // A runner could hand a task back uncharged for ever (a broken fleet, or one
  // that lies): past the cap its releases are charged like any other. Read
  // unlocked: at worst two racing releases both pass at cap - 1.
  bool at_cap = false;
  int backoff_s = 0;
  {
    pqxx::read_transaction tx(m_impl->conn);
    auto count = run(tx, sql::tasks_uncharged_releases, task_id);
    at_cap = !count.empty() && count[0][0].as<int>() >= uncharged_releases_max;
    // The usual backoff of the claim's attempt, as store::release.
    auto attempt = run(tx, sql::tasks_get_attempt, task_id);
    if (!attempt.empty()) backoff_s = retry_backoff_s(attempt[0][0].as<int>(), backoff);
  }
  if (at_cap) {
    charged = true;
    return release(task_id, request, agent, backoff);
  }
  charged = false;
  pqxx::work tx(m_impl->conn);
  auto rows = run(tx, sql::tasks_release_uncharged, task_id, request.token, agent.id,
                  request.reason, agent.name, m_impl->now, backoff_s);
  if (rows.empty()) {
    tx.abort();
    auto expected = agent.role == agent_role::reviewer ? task_state::reviewing
                                                       : task_state::working;
    return diagnose_holder_call(task_id, request.token, agent, expected);
  }
  tx.commit();
  auto state = parse_task_state(rows[0][0].c_str());
  if (!state) throw std::runtime_error(std::string("unknown task state ") + rows[0][0].c_str());
  return state_change{*state, as_json(rows[0][1])};
} catch (...) {
  rethrow_as_unavailable();
}

outcome<json> store::set_runner_status(const agent_identity& agent,
                                       const runner_status_request& request) try {
  pqxx::work tx(m_impl->conn);
  auto rows = run(tx, sql::agents_set_runner_status, agent.id, request.status, request.reason);
  if (rows.empty()) return refuse(error_code::not_found, "no active agent named '" + agent.name + "'");
  tx.commit();
  return as_json(rows[0][0]);
} catch (...) {
  rethrow_as_unavailable();
}

}  // namespace agentq
