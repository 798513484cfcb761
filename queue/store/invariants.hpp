#pragma once
// Checks the guarantees of CONTRACT §4 against what the database holds, from
// the event history and the claims: after any run — a stress test, a crash,
// a fault-injection round — every violation found is described in a line.
// An empty answer means the history is consistent:
//   * each task's events form one chain (from_state = the previous to_state)
//     that ends in the task's state, and every step is a transition of the
//     state machine (queue/core/task_state.hpp);
//   * each task's claims carry strictly increasing tokens;
//   * at most one live claim per task, and it is the one the task names;
//   * every done task has exactly one landed merge, and no task has two.

#include <string>
#include <vector>

#include <pqxx/connection>

namespace agentq {

std::vector<std::string> check_invariants(pqxx::connection& conn);

}  // namespace agentq
