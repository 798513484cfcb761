#include "merge_world.hpp"

#include <stdexcept>

#include <pqxx/pqxx>

namespace agentq::testing {

merge_world::merge_world(std::optional<std::string> url) {
  // Real time: the merger's own store runs on now(), and its reconcile query
  // compares the merges' times with it.
  q.queue.set_clock(std::nullopt);
  if (!q.queue.add_repo(new_repo{"proj", url.value_or(git.origin()), "main"}))
    throw std::runtime_error("add_repo proj failed");
}

merger_config merge_world::config(const std::string& cache) const {
  merger_config config;
  config.cache_dir = git.cache(cache);
  config.reconcile_after_s = 0;
  config.author_name = "agentq merger";
  config.author_email = "merger@agentq.test";
  return config;
}

std::int64_t merge_world::add_task(const std::string& title) {
  return q.add({{"repo", "proj"}, {"title", title}});
}

submitted_work merge_world::work_on(std::int64_t task_id,
                                    const std::map<std::string, std::optional<std::string>>& files,
                                    const std::string& from) {
  return work_on(task_id, q.worker1, files, from);
}

submitted_work merge_world::work_on(std::int64_t task_id, const agent_identity& worker,
                                    const std::map<std::string, std::optional<std::string>>& files,
                                    const std::string& from) {
  auto grant = q.claim_one(worker);
  if (grant.task_id != task_id)
    throw std::runtime_error("claimed task " + std::to_string(grant.task_id) + ", wanted " +
                             std::to_string(task_id));
  submitted_work work;
  work.token = grant.token;
  work.branch = claim_branch(task_id, grant.token);
  work.commit = git.commit(work.branch, from, files, "work on task " + std::to_string(task_id));
  auto done = q.queue.submit(task_id, submit_request{work.token, work.branch, work.commit, "did it"},
                             worker);
  if (!done) throw std::runtime_error("submit: " + done.error().message);
  return work;
}

std::int64_t merge_world::approve(std::int64_t task_id) { return approve(task_id, q.reviewer1); }

std::int64_t merge_world::approve(std::int64_t task_id, const agent_identity& reviewer) {
  auto grant = q.claim_one(reviewer);
  if (grant.task_id != task_id)
    throw std::runtime_error("reviewer claimed task " + std::to_string(grant.task_id));
  auto merge = q.queue.approve(task_id, review_request{grant.token, verdict::approve, "looks right"},
                               reviewer);
  if (!merge) throw std::runtime_error("approve: " + merge.error().message);
  return *merge;
}

std::vector<std::string> merge_world::event_kinds(std::int64_t task_id) {
  auto task = q.queue.get_task(task_id);
  if (!task) throw std::runtime_error("no task");
  std::vector<std::string> kinds;
  for (const auto& event : (*task)["events"]) kinds.push_back(event["kind"].get<std::string>());
  return kinds;
}

nlohmann::json merge_world::merge_row(std::int64_t merge_id) {
  pqxx::read_transaction tx(q.sql);
  auto row = tx.exec_params1("select to_jsonb(m)::text from merges m where m.id = $1", merge_id);
  return nlohmann::json::parse(row[0].c_str());
}

}  // namespace agentq::testing
