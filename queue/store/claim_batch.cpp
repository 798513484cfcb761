// A batched claim (issue 13): the claim waiters wake many parked callers
// with one filter at once, and one statement serves them all instead of one
// statement each. The statements (sql/queries/tasks_claim_*_batch.sql) are
// the single claims' searches for as many tasks as there are claimants, with
// each task paired to one claimant; tokens, claims rows and events are as
// one single claim per claimant would write them (docs/design.md §2).
#include <agentq/sql.hpp>

#include "store/store.hpp"
#include "store/store_impl.hpp"

namespace agentq {

using store_detail::as_json;
using store_detail::rethrow_as_unavailable;
using store_detail::run;

namespace store_detail {

claim_grant claim_grant_of(const pqxx::row& row, const agent_identity& agent, int lease_s,
                           int first_lease_s) {
  claim_grant grant;
  grant.task_id = row["id"].as<std::int64_t>();
  grant.token = row["token"].as<std::int64_t>();
  grant.took_over_expired_lease = !row["old_token"].is_null();
  grant.answer = {
      {"task", as_json(row["task"])},
      {"claim",
       {{"token", grant.token},
        {"agent", agent.name},
        {"role", to_string(agent.role)},
        {"lease_s", lease_s},
        {"first_lease_s", first_lease_s},
        {"lease_expires_at", row["lease_expires_at"].c_str()}}},
      {"repo", as_json(row["repo"])},
  };
  if (agent.role == agent_role::worker)
    grant.answer["feedback"] = as_json(row["feedback"]);
  else
    grant.answer["submission"] = as_json(row["submission"]);
  return grant;
}

void close_taken_over_claims(pqxx::transaction_base& tx, const pqxx::result& claimed,
                             const std::optional<std::string>& now) {
  std::vector<std::int64_t> taken_over;
  for (const auto& row : claimed)
    if (!row["old_token"].is_null()) taken_over.push_back(row["old_token"].as<std::int64_t>());
  if (!taken_over.empty()) run(tx, sql::claims_close_taken_over, to_pg_array(taken_over), now);
}

}  // namespace store_detail

batch_claim store::claim_batch(agent_role role, const std::vector<std::string>& queues,
                               const std::vector<batch_claimant>& claimants,
                               int first_lease_s) try {
  batch_claim result;
  result.grants.resize(claimants.size());
  if (claimants.empty() || (role != agent_role::worker && role != agent_role::reviewer))
    return result;
  std::vector<std::int64_t> ids, leases, firsts;
  std::vector<std::string> names;
  for (const auto& c : claimants) {
    ids.push_back(c.agent.id);
    names.push_back(c.agent.name);
    leases.push_back(c.lease_s);
    firsts.push_back(first_lease_s > 0 && first_lease_s < c.lease_s ? first_lease_s : c.lease_s);
  }
  std::optional<std::string> filter;
  if (!queues.empty()) filter = to_pg_array(queues);

  pqxx::work tx(m_impl->conn);
  auto query = role == agent_role::worker ? sql::tasks_claim_worker_batch
                                          : sql::tasks_claim_reviewer_batch;
  if (queues.empty()) store_detail::prefer_generic_plan(tx);
  auto rows = run(tx, query, to_pg_array(ids), to_pg_array(names), filter, to_pg_array(leases),
                  m_impl->now, to_pg_array(firsts));
  store_detail::close_taken_over_claims(tx, rows, m_impl->now);
  tx.commit();

  std::size_t granted = 0;
  for (const auto& row : rows) {
    if (row["id"].is_null()) {  // the reviewers' "nobody got one" row
      result.filter_empty = row["nothing_to_review"].as<bool>();
      continue;
    }
    const auto at = static_cast<std::size_t>(row["claimant"].as<std::int64_t>() - 1);
    const auto& c = claimants.at(at);
    result.grants[at] = store_detail::claim_grant_of(row, c.agent, static_cast<int>(leases[at]),
                                                     static_cast<int>(firsts[at]));
    ++granted;
  }
  if (role == agent_role::worker) result.filter_empty = granted < claimants.size();
  return result;
} catch (...) {
  rethrow_as_unavailable();
}

}  // namespace agentq
