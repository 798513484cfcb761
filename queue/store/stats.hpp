#pragma once
// What the server reads besides the store's transitions: the numbers behind
// /metrics (store::queue_stats()) and the submit check's target
// (store::submit_target()). Each is one read transaction on the store's
// connection; none changes anything.

#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace agentq {

struct queue_stats {
  // Every state, zero when none (all servers). The only numbers /metrics
  // asks the database for: counters are the server's own (http/metrics.hpp).
  std::map<std::string, std::int64_t> tasks_by_state;
};

// Whose claim a task holds now and where its repository is.
struct submit_target {
  std::optional<std::int64_t> claim_token;
  std::optional<std::int64_t> claim_agent_id;
  std::string repo_name;
  std::string repo_url;
  std::string base_branch;
};

}  // namespace agentq
