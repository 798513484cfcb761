#pragma once
// The merger: the only code that advances a base branch (docs/api.md §4.5).
//
// An approval records a pending merge (store::approve). land() then, holding
// the repository's lock across all servers, merges exactly the submitted
// commit into the base branch (fast-forward when possible, else a merge
// commit), pushes without force (retrying on a base that moved), and records
// the result. A conflict sends the task back to queued with the conflict as
// feedback. After a crash, run_once() finds pending merges and reconciles
// them: if the base branch already contains the commit the task becomes done,
// otherwise the merge is made. Each approved submission lands exactly once.
//
// The lock: the store's repo_merge_lock (store/repo_merge_lock.hpp), an
// advisory lock on a connection of its own in an open transaction, held until
// the outcome is recorded. PostgreSQL releases it if the process dies.
//
// Why it is crash safe: the push and the record are two steps, so a process
// can die between them. Then the merge stays pending and run_once() (every
// `interval` once start()ed, a services/periodic_service, for merges older
// than reconcile_after_s) lands it again: it finds the commit already on the base branch and records the
// commit that brought it in, instead of merging a second time.
//
// Fault injection (tests only, see git/fault.hpp):
//   AGENTQ_FAULT=merger.after_push  land() exits the process with status 137
//                                   right after a successful push, before the
//                                   merge is recorded.
//
// Threads: land() and run_once() open their own connections and may be
// called from any number of threads at once.
//
// Options (merger_config):
//   cache_dir          .agentq/server-git  the bare mirrors (one per repository)
//   interval           5 s                 how often start()'s loop looks for orphans
//   reconcile_after_s  30                  a pending merge this old is orphaned
//   author_name/email  agentq <agentq@localhost>  author of merge commits
//   git_timeout        30 s                each network git operation's deadline
//   delete_task_branches  true             delete agentq/<id>/<token> after the merge

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "git/repo_gateway.hpp"
#include "services/periodic_service.hpp"

namespace agentq {

struct merge_job;
class store;

struct merger_config {
  std::filesystem::path cache_dir = ".agentq/server-git";  // mirrors live here
  std::chrono::milliseconds interval{5000};  // how often run() looks for orphans
  int reconcile_after_s = 30;                // a pending merge this old is orphaned
  std::string author_name = "agentq";
  std::string author_email = "agentq@localhost";
  // Deadline of each network git operation (fetch, push, branch deletion):
  // one that passes throws agentq::git::timeout and the merge stays pending.
  std::chrono::milliseconds git_timeout{30000};
  // After a merge is recorded, delete the task's agentq/<id>/<token>
  // branches on the remote (best effort; --keep-task-branches turns it off).
  bool delete_task_branches = true;
};

struct merge_result {
  enum class kind { merged, conflict };
  kind outcome = kind::merged;
  std::string merge_commit;  // merged: the base commit that brought the submission in
  std::string detail;        // conflict: what conflicted, for the worker
  nlohmann::json task;       // the task after the merge
};

class merger {
 public:
  merger(std::string database_url, merger_config config = {});
  ~merger();

  // Lands merge `merge_id` now, or answers what it was already recorded as.
  // Throws when the repository or the database cannot be reached (the merge
  // stays pending, and run_once() retries it). deadline: when the caller
  // stops waiting (an approval's request: the server's git deadline); its
  // fetch and push end by then. nullopt: each git operation gets git_timeout.
  merge_result land(std::int64_t merge_id,
                    std::optional<std::chrono::steady_clock::time_point> deadline = std::nullopt);

  // Reconciles pending merges older than reconcile_after_s; answers how many
  // it finished. Tests call this directly.
  int run_once();

  void start();  // run_once() every interval on a thread of its own
  void stop();

  git::repo_gateway& gateway() { return m_gateway; }

 private:
  merge_result land_once(std::int64_t merge_id,
                         std::optional<std::chrono::steady_clock::time_point> deadline);
  merge_result land_locked(store& db, const merge_job& job,
                           std::optional<std::chrono::steady_clock::time_point> deadline);
  merge_result finish_merged(store& db, const merge_job& job, const std::string& merge_commit,
                             const char* how);
  merge_result finish_conflict(store& db, const merge_job& job, const std::string& detail);
  void delete_task_branches(const merge_job& job);

  std::string m_database_url;
  merger_config m_config;
  git::repo_gateway m_gateway;
  periodic_service m_service;  // last: its thread stops before the rest goes
};

}  // namespace agentq
