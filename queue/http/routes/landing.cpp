#include "http/routes/landing.hpp"

#include <spdlog/spdlog.h>

#include "http/routes/route_support.hpp"
#include "git/repo_gateway.hpp"
#include "services/merger.hpp"

namespace agentq {

http_reply land_merge(route_context& ctx, std::int64_t task_id, std::int64_t merge_id) {
  auto* landing = ctx.services().merger;
  if (!landing)  // a handler without services (tests): the merge stays pending
    return json_reply(200, {{"state", "reviewing"}, {"merge_id", merge_id}});
  const int retry_after_s = ctx.config().retry_after_s;
  git_step step;
  // The merger's own lock orders merges of one repository across servers;
  // the executor caps how many of them (and of other git work) one remote
  // gets at once.
  if (auto target = ctx.db().submit_target(task_id)) {
    step.repo_name = target->repo_name;
    step.remote_key = git::repo_gateway::remote_key({target->repo_name, target->repo_url});
  }
  // The merge's fetch and push end by the step's deadline (a merge may
  // first wait for another server's merge of the same repository).
  step.work = [landing, merge_id](auto deadline) -> nlohmann::json {
    auto landed = landing->land(merge_id, deadline);
    return {{"merged", landed.outcome == merge_result::kind::merged},
            {"merge_commit", landed.merge_commit},
            {"detail", landed.detail},
            {"task", landed.task}};
  };
  step.then = [task_id, merge_id, retry_after_s](const git_outcome& outcome,
                                                 const std::function<store&()>&) {
    if (outcome.timed_out || outcome.error) {
      spdlog::warn("event=merge_failed task={} merge={} error=\"{}\"", task_id, merge_id,
                   outcome.error.value_or("timed out"));
      // The merge stays pending: the merger's loop retries it, and a repeated
      // approval with the same token lands the same merge.
      return unavailable_reply(
          "the approval is recorded but the merge could not be made yet; it is retried "
          "automatically",
          retry_after_s);
    }
    const auto& landed = outcome.value;
    if (landed["merged"].get<bool>())
      return json_reply(200, {{"state", "done"},
                              {"merge_commit", landed["merge_commit"]},
                              {"task", landed["task"]}});
    return json_reply(200, {{"state", "queued"},
                            {"reason", "merge_conflict"},
                            {"detail", landed["detail"]},
                            {"task", landed["task"]}});
  };
  ctx.result.git = std::move(step);
  return {};
}

}  // namespace agentq
