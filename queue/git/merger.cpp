// The merger (queue/services/merger.hpp). It lives in queue/git because it is
// libgit2 work wrapped in one PostgreSQL lock; its header stays with the
// other services.
#include "services/merger.hpp"

#include <memory>
#include <stdexcept>

#include <spdlog/spdlog.h>

#include "git/fault.hpp"
#include "store/database_unavailable.hpp"
#include "store/store.hpp"

namespace agentq {
namespace {

// How often one land() tries again when the base branch moved between its
// fetch and its push (someone pushed to it outside agentq). Beyond that the
// merge stays pending and run_once() tries again later.
constexpr int push_attempts = 5;
// How many times one land() starts over after its database connection broke.
constexpr int connection_attempts = 3;
// The actor named in the events the merger records.
constexpr const char* merger_actor = "merger";
// Pending merges one run_once() looks at.
constexpr int reconcile_batch = 100;

// A clone of whatever the default logger is now (the server may set it up
// after the merger was made), named for the merger.
std::shared_ptr<spdlog::logger> logger() { return spdlog::default_logger()->clone("merger"); }

git::repo_ref repo_of(const merge_job& job) { return {job.repo_name, job.repo_url}; }

std::string first_line(const std::string& text) { return text.substr(0, text.find('\n')); }

std::string merge_message(const merge_job& job) {
  return "Merge task #" + std::to_string(job.task_id) + ": " + first_line(job.title) +
         "\n\nBranch: " + job.branch + "\nCommit: " + job.commit + "\nWorker: " + job.worker +
         "\nMerged by agentq (merge " + std::to_string(job.id) + ")\n";
}

std::string conflict_detail(const merge_job& job, const std::string& base_tip,
                            const std::vector<std::string>& paths) {
  std::string text = "Merge conflict: commit " + job.commit + " (branch " + job.branch +
                     ") does not merge cleanly into " + job.base_branch + " at " + base_tip +
                     ", which moved since this work started. Conflicting paths:\n";
  for (const auto& path : paths) text += "  " + path + "\n";
  text += "Rebase the work on the new " + job.base_branch +
          " (or redo it from there), resolve these conflicts, and submit again.";
  return text;
}

std::string missing_commit_detail(const merge_job& job) {
  return "The submitted commit " + job.commit + " is no longer in the repository: branch " +
         job.branch + " was moved or deleted before the merge. Redo the work on the current " +
         job.base_branch + " and submit again.";
}

// What an earlier land() recorded for this merge.
merge_result recorded(store& db, const merge_job& job) {
  merge_result result;
  if (job.status == "conflict") {
    result.outcome = merge_result::kind::conflict;
    result.detail = job.detail.value_or("");
  } else {
    result.outcome = merge_result::kind::merged;
    result.merge_commit = job.merge_commit.value_or("");
  }
  auto task = db.get_task(job.task_id);
  if (task) result.task = (*task)["task"];
  return result;
}

}  // namespace

merger::merger(std::string database_url, merger_config config)
    : m_database_url(std::move(database_url)),
      m_config(std::move(config)),
      m_gateway(m_config.cache_dir, m_config.git_timeout),
      m_service({"merger", m_config.interval, "look for pending merges",
                 "reconciled pending merges"},
                [this] { return run_once(); }) {}

merger::~merger() { stop(); }

merge_result merger::land(std::int64_t merge_id,
                          std::optional<std::chrono::steady_clock::time_point> deadline) {
  // A land() whose database connection broke (a killed backend, a restarted
  // pooler) starts over on fresh connections: land is idempotent (it reads
  // the merge's record again under the lock, and a push that landed before
  // the break is found on the base branch and recorded as reconciled), so an
  // approval need not answer 503 while the database is up. A database that
  // stays unreachable still throws, and the merge stays pending.
  for (int attempt = 1;; ++attempt) {
    try {
      return land_once(merge_id, deadline);
    } catch (const database_unavailable& e) {
      const bool out_of_time = deadline && std::chrono::steady_clock::now() >= *deadline;
      if (!e.connection_lost() || attempt >= connection_attempts || out_of_time) throw;
      logger()->warn("database connection lost during a merge, starting over merge_id={} "
                     "attempt={} error=\"{}\"",
                     merge_id, attempt, e.what());
    }
  }
}

merge_result merger::land_once(std::int64_t merge_id,
                               std::optional<std::chrono::steady_clock::time_point> deadline) {
  store db(m_database_url);
  auto job = db.get_merge(merge_id);
  if (!job) throw std::runtime_error("no merge " + std::to_string(merge_id));
  if (job->status != "pending") return recorded(db, *job);

  // The repository's lock, held until this function returns (the guard's
  // own connection: the store's transactions commit while it is held).
  auto lock = db.lock_repo_for_merge(job->repo_id);

  // Another server may have landed it while we waited for the lock.
  job = db.get_merge(merge_id);
  if (!job) throw std::runtime_error("merge " + std::to_string(merge_id) + " disappeared");
  if (job->status != "pending") return recorded(db, *job);
  return land_locked(db, *job, deadline);
}

merge_result merger::land_locked(store& db, const merge_job& job,
                                 std::optional<std::chrono::steady_clock::time_point> deadline) {
  auto log = logger();
  auto repo = repo_of(job);
  for (int attempt = 1; attempt <= push_attempts; ++attempt) {
    // The base branch to merge onto, and the submission's branch for its
    // objects. What lands is job.commit, whatever the branch holds now.
    auto tips = m_gateway.fetch(repo, {job.base_branch, job.branch}, deadline);
    const auto& base_tip = tips.at(job.base_branch);
    if (!base_tip)
      throw std::runtime_error("repository '" + job.repo_name + "' has no branch '" +
                               job.base_branch + "': create it (push a first commit); merge " +
                               std::to_string(job.id) + " stays pending until then");
    if (!m_gateway.has_commit(repo, job.commit))
      return finish_conflict(db, job, missing_commit_detail(job));

    // Already there: a land() that pushed and died before recording it.
    if (m_gateway.contains(repo, *base_tip, job.commit))
      return finish_merged(db, job, m_gateway.introducing_commit(repo, *base_tip, job.commit),
                           "reconciled");

    std::string new_tip;
    const char* how = "fast_forward";
    if (m_gateway.contains(repo, job.commit, *base_tip)) {
      new_tip = job.commit;
    } else {
      auto made = m_gateway.merge(repo, *base_tip, job.commit, merge_message(job),
                                  {m_config.author_name, m_config.author_email});
      if (!made.commit) return finish_conflict(db, job, conflict_detail(job, *base_tip, made.conflicts));
      new_tip = *made.commit;
      how = "merge_commit";
    }

    auto pushed = m_gateway.push_branch(repo, job.base_branch, new_tip, deadline);
    if (pushed.pushed) {
      fault_point("merger.after_push");
      return finish_merged(db, job, new_tip, how);
    }
    log->warn(
        "base branch moved during the merge, trying again merge_id={} task_id={} repo={} "
        "branch={} attempt={} reason=\"{}\"",
        job.id, job.task_id, job.repo_name, job.base_branch, attempt, pushed.message);
  }
  throw std::runtime_error("the base branch '" + job.base_branch + "' of repository '" +
                           job.repo_name + "' kept moving during merge " +
                           std::to_string(job.id) + "; it stays pending and is retried");
}

merge_result merger::finish_merged(store& db, const merge_job& job,
                                   const std::string& merge_commit, const char* how) {
  auto task = db.finish_merge_merged(job.id, merge_commit, merger_actor);
  if (!task) {  // recorded meanwhile (cannot happen under the lock; answer the record)
    auto again = db.get_merge(job.id);
    if (!again) throw std::runtime_error("merge " + std::to_string(job.id) + " disappeared");
    return recorded(db, *again);
  }
  logger()->info("merged merge_id={} task_id={} repo={} branch={} commit={} merge_commit={} how={}",
                 job.id, job.task_id, job.repo_name, job.base_branch, job.commit, merge_commit,
                 how);
  if (m_config.delete_task_branches) delete_task_branches(job);
  merge_result result;
  result.outcome = merge_result::kind::merged;
  result.merge_commit = merge_commit;
  result.task = std::move(*task);
  return result;
}

void merger::delete_task_branches(const merge_job& job) {
  // The task is done and its commit is on the base branch: its branches only
  // slow down every later fetch. Best effort: a failure leaves them behind.
  try {
    int deleted = m_gateway.delete_task_branches(repo_of(job), job.task_id, job.base_branch);
    if (deleted > 0)
      logger()->info("deleted task branches task_id={} repo={} count={}", job.task_id,
                     job.repo_name, deleted);
  } catch (const std::exception& e) {
    logger()->warn("task branches not deleted task_id={} repo={} error=\"{}\"", job.task_id,
                   job.repo_name, e.what());
  }
}

merge_result merger::finish_conflict(store& db, const merge_job& job, const std::string& detail) {
  auto task = db.finish_merge_conflict(job.id, detail, merger_actor);
  if (!task) {
    auto again = db.get_merge(job.id);
    if (!again) throw std::runtime_error("merge " + std::to_string(job.id) + " disappeared");
    return recorded(db, *again);
  }
  logger()->info("merge conflict, task back to queued merge_id={} task_id={} repo={} commit={}",
                 job.id, job.task_id, job.repo_name, job.commit);
  merge_result result;
  result.outcome = merge_result::kind::conflict;
  result.detail = detail;
  result.task = std::move(*task);
  return result;
}

int merger::run_once() {
  std::vector<std::int64_t> pending;
  {
    store db(m_database_url);
    pending = db.list_pending_merges(m_config.reconcile_after_s, reconcile_batch);
  }
  int finished = 0;
  for (auto id : pending) {
    try {
      land(id);
      ++finished;
    } catch (const std::exception& e) {
      // One repository that cannot be reached must not hold up the others.
      logger()->warn("pending merge not landed, will retry merge_id={} error=\"{}\"", id,
                     e.what());
    }
  }
  return finished;  // the service's loop logs it when above zero
}

void merger::start() { m_service.start(); }

void merger::stop() { m_service.stop(); }

}  // namespace agentq
