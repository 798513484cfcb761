#pragma once
// The merger: the only code that advances a base branch (CONTRACT §4.5).
//
// An approval records a pending merge (store::approve). land() then, holding
// the repository's lock across all servers, merges exactly the submitted
// commit into the base branch (fast-forward when possible, else a merge
// commit), pushes without force (retrying on a base that moved), and records
// the result. A conflict sends the task back to queued with the conflict as
// feedback. After a crash, run_once() finds pending merges and reconciles
// them: if the base branch already contains the commit the task becomes done,
// otherwise the merge is made. Each approved submission lands exactly once.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

namespace agentq {

struct merger_config {
  std::filesystem::path cache_dir = ".agentq/server-git";  // mirrors live here
  std::chrono::milliseconds interval{5000};  // how often run() looks for orphans
  int reconcile_after_s = 30;                // a pending merge this old is orphaned
  std::string author_name = "agentq";
  std::string author_email = "agentq@localhost";
};

struct merge_result {
  enum class kind { merged, conflict };
  kind outcome = kind::merged;
  std::string merge_commit;  // merged: the base branch's new tip
  std::string detail;        // conflict: what conflicted, for the worker
  nlohmann::json task;       // the task after the merge
};

class merger {
 public:
  merger(std::string database_url, merger_config config = {});
  ~merger();

  // Lands merge `merge_id` now, or answers what it was already recorded as.
  // Throws when the repository or the database cannot be reached (the merge
  // stays pending, and run_once() retries it).
  merge_result land(std::int64_t merge_id);

  // Reconciles pending merges older than reconcile_after_s; answers how many
  // it finished. Tests call this directly.
  int run_once();

  void start();  // run_once() every interval on a thread of its own
  void stop();

 private:
  void loop();

  std::string m_database_url;
  merger_config m_config;
  std::mutex m_mutex;
  std::condition_variable m_wake;
  bool m_stopping = false;
  std::thread m_thread;
};

}  // namespace agentq
