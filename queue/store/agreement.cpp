// What people's views of the queue need besides the task calls: the
// agreement table, the event feed a page follows, and amending a task's
// description (store.hpp says what each answers).
#include <agentq/sql.hpp>

#include "store/store_impl.hpp"

namespace agentq {
namespace {

using json = nlohmann::json;
using store_detail::as_json;
using store_detail::rethrow_as_unavailable;
using store_detail::run;

}  // namespace

json store::agreement_stats() try {
  pqxx::read_transaction tx(m_impl->conn);
  json table = {{"workers", json::array()}, {"reviewers", json::array()}, {"repos", json::array()}};
  for (const auto& row : run(tx, sql::agreement_stats)) {
    json line = {{"name", row["name"].c_str()}};
    for (const char* column : {"submissions", "approved", "approved_first_time", "rejected",
                               "reviewer_right", "worker_right", "spec_unclear", "open"})
      line[column] = row[column].as<std::int64_t>();
    const std::string scope = row["scope"].c_str();
    table[scope == "worker" ? "workers" : scope == "reviewer" ? "reviewers" : "repos"].push_back(
        std::move(line));
  }
  return table;
} catch (...) {
  rethrow_as_unavailable();
}

json store::events_after(std::int64_t after, int limit) try {
  pqxx::read_transaction tx(m_impl->conn);
  json events = json::array();
  for (const auto& row : run(tx, sql::events_after, after, limit))
    events.push_back(as_json(row["event"]));
  const auto last_id = run(tx, sql::events_last_id)[0][0].as<std::int64_t>();
  return {{"events", events}, {"last_id", last_id}};
} catch (...) {
  rethrow_as_unavailable();
}

outcome<state_change> store::amend_task(std::int64_t id, const amend_request& request,
                                        const std::string& actor) try {
  pqxx::work tx(m_impl->conn);
  run(tx, sql::tasks_lock, id);
  auto amended = run(tx, sql::tasks_amend, id, actor, request.body, request.note, m_impl->now);
  if (amended.empty()) {
    auto current = run(tx, sql::tasks_state, id);
    if (current.empty()) return refuse(error_code::not_found, "no task " + std::to_string(id));
    return refuse(error_code::invalid_state,
                  "task " + std::to_string(id) + " is " + current[0][0].c_str() +
                      "; only queued, needs_human, failed or cancelled tasks (with no merge "
                      "under way) can be amended");
  }
  auto state = parse_task_state(amended[0]["state"].c_str()).value();
  json task = as_json(amended[0]["task"]);
  if (request.requeue && state != task_state::queued) {
    auto requeued = run(tx, sql::tasks_requeue, id, actor, request.note, m_impl->now);
    if (requeued.empty())  // the lock above keeps the state: only a bug lands here
      return refuse(error_code::invalid_state,
                    "task " + std::to_string(id) + " could not be requeued");
    state = task_state::queued;
    task = as_json(requeued[0][0]);
  }
  tx.commit();
  return state_change{state, task};
} catch (...) {
  rethrow_as_unavailable();
}

}  // namespace agentq
