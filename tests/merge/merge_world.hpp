#pragma once
// A queue (fresh database, agents) with a real repository "proj" whose URL
// is a bare repo on disk, and the steps that take a task to an approval
// through the store — what the HTTP layer does, minus HTTP.

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "git_fixture.hpp"
#include "services/merger.hpp"
#include "support/queue_fixture.hpp"

namespace agentq::testing {

struct submitted_work {
  std::int64_t token = 0;
  std::string branch;
  std::string commit;
};

struct merge_world {
  // url: the repository's URL as stored (default: origin.git's path).
  explicit merge_world(std::optional<std::string> url = std::nullopt);

  git_fixture git;  // before the queue: the repo row names its path
  queue_fixture q;

  // A merger as a server would run it, with a cache of its own.
  merger_config config(const std::string& cache = "cache") const;

  std::int64_t add_task(const std::string& title);
  // Claims as `worker` (the claim must get `task_id`), commits `files` on the
  // claim's branch from `from`, submits.
  submitted_work work_on(std::int64_t task_id,
                         const std::map<std::string, std::optional<std::string>>& files,
                         const std::string& from = "main");
  submitted_work work_on(std::int64_t task_id, const agent_identity& worker,
                         const std::map<std::string, std::optional<std::string>>& files,
                         const std::string& from = "main");
  // Claims as `reviewer` and approves: answers the merge id.
  std::int64_t approve(std::int64_t task_id);
  std::int64_t approve(std::int64_t task_id, const agent_identity& reviewer);

  std::string state(std::int64_t task_id) { return q.state(task_id); }
  // The kinds of the task's events, oldest first.
  std::vector<std::string> event_kinds(std::int64_t task_id);
  nlohmann::json merge_row(std::int64_t merge_id);
};

}  // namespace agentq::testing
