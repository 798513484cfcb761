#pragma once
// The per-repository merge lock: pg_advisory_xact_lock(7420002, repo_id)
// (sql/queries/repos_merge_lock.sql), held across all servers while one
// merger lands a merge on that repository. Take it with
// store::lock_repo_for_merge(repo_id).
//
// The guard holds a connection of its own with an open transaction, so the
// store's transactions commit while it is held. Nothing is written through
// it: destroying the guard (or release()) rolls the transaction back, which
// releases the lock, and PostgreSQL releases it too if the process dies. An
// advisory lock, not a row lock on repos: approvals insert into merges, whose
// foreign key takes FOR KEY SHARE on the repos row, and must not wait for a
// merge in progress.

#include <cstdint>
#include <memory>

namespace agentq {

class store;

class repo_merge_lock {
 public:
  repo_merge_lock(repo_merge_lock&&) noexcept;
  repo_merge_lock& operator=(repo_merge_lock&&) noexcept;
  repo_merge_lock(const repo_merge_lock&) = delete;
  repo_merge_lock& operator=(const repo_merge_lock&) = delete;
  ~repo_merge_lock();

  // Gives the lock back now (the destructor does it otherwise). Never throws:
  // a connection that broke has released the lock already.
  void release() noexcept;
  bool held() const { return static_cast<bool>(m_held); }
  std::int64_t repo_id() const { return m_repo_id; }

 private:
  friend class store;
  struct held_lock;
  repo_merge_lock(std::int64_t repo_id, std::unique_ptr<held_lock> held);

  std::int64_t m_repo_id = 0;
  std::unique_ptr<held_lock> m_held;
};

}  // namespace agentq
