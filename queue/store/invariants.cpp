// store::check_invariants(): the queue's guarantees checked against
// the event history and the claims (store.hpp lists them).
#include <agentq/sql.hpp>

#include "core/task_state.hpp"
#include "store/store_impl.hpp"

namespace agentq {
namespace {

std::string field(const pqxx::field& f) { return f.is_null() ? "null" : f.c_str(); }

}  // namespace

std::vector<std::string> store::check_invariants() try {
  pqxx::read_transaction tx(m_impl->conn);
  std::vector<std::string> problems;
  auto each = [&](std::string_view query, auto&& describe) {
    for (const auto& row : tx.exec(std::string(query))) problems.push_back(describe(row));
  };
  each(sql::invariants_event_chain, [](const pqxx::row& r) {
    return "task " + field(r["task_id"]) + ": event " + field(r["id"]) + " (" + field(r["kind"]) +
           ") starts from " + field(r["from_state"]) + " but the history was at " +
           field(r["prev_to"]);
  });
  // Retention deletes whole tasks with their history; a task left without
  // one (its events gone, the task kept) is a violation.
  each(sql::invariants_task_history, [](const pqxx::row& r) {
    return "task " + field(r["id"]) + " has no history (its events are gone, the task is not)";
  });
  each(sql::invariants_final_state, [](const pqxx::row& r) {
    return "task " + field(r["id"]) + " is " + field(r["state"]) + " but its history ends at " +
           field(r["to_state"]);
  });
  for (const auto& row : tx.exec(std::string(sql::invariants_transitions))) {
    auto from = parse_task_state(field(row["from_state"]));
    auto to = parse_task_state(field(row["to_state"]));
    // Approvals record a step that does not change the state yet.
    bool stays = from && to && *from == *to;
    if (!from || !to || (!stays && !is_transition(*from, *to)))
      problems.push_back("the history holds a transition the state machine has not: " +
                         field(row["from_state"]) + " -> " + field(row["to_state"]));
  }
  each(sql::invariants_tokens, [](const pqxx::row& r) {
    return "task " + field(r["task_id"]) + ": claim token " + field(r["token"]) +
           " is not above an earlier token " + field(r["prev"]);
  });
  each(sql::invariants_live_claims, [](const pqxx::row& r) {
    return "task " + field(r["id"]) + " has " + field(r["live"]) +
           " live claims, not the one it names";
  });
  each(sql::invariants_merges, [](const pqxx::row& r) {
    return "task " + field(r["id"]) + " is " + field(r["state"]) + " with " + field(r["merged"]) +
           " landed merges";
  });
  return problems;
} catch (...) {
  store_detail::rethrow_as_unavailable();
}

}  // namespace agentq
