#include "store/stats.hpp"

#include <agentq/sql.hpp>

#include "core/task_state.hpp"
#include "store/store_impl.hpp"

namespace agentq {

using store_detail::rethrow_as_unavailable;

agentq::queue_stats store::queue_stats() try {
  pqxx::read_transaction tx(m_impl->conn);
  agentq::queue_stats stats;
  for (auto state : {task_state::queued, task_state::working, task_state::awaiting_review,
                     task_state::reviewing, task_state::done, task_state::failed,
                     task_state::cancelled, task_state::needs_human})
    stats.tasks_by_state[std::string(to_string(state))] = 0;
  for (const auto& row : tx.exec_params(std::string(sql::stats_tasks_by_state)))
    stats.tasks_by_state[row["state"].c_str()] = row["tasks"].as<std::int64_t>();
  return stats;
} catch (...) {
  rethrow_as_unavailable();
}

std::optional<agentq::submit_target> store::submit_target(std::int64_t task_id) try {
  pqxx::read_transaction tx(m_impl->conn);
  auto rows = tx.exec_params(std::string(sql::server_submit_target), task_id);
  if (rows.empty()) return std::nullopt;
  const auto& row = rows[0];
  agentq::submit_target target;
  if (!row["claim_token"].is_null()) target.claim_token = row["claim_token"].as<std::int64_t>();
  if (!row["claim_agent_id"].is_null())
    target.claim_agent_id = row["claim_agent_id"].as<std::int64_t>();
  target.repo_name = row["repo_name"].c_str();
  target.repo_url = row["repo_url"].c_str();
  target.base_branch = row["base_branch"].c_str();
  return target;
} catch (...) {
  rethrow_as_unavailable();
}

}  // namespace agentq
