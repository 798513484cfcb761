#pragma once
// Retention: finished tasks do not pile up for ever (issue 13; docs/design.md
// "Retention"). Every `interval` it deletes done, failed and cancelled tasks
// that finished longer ago than `policy.finished_age_s`, each with every row
// that belongs to it, batch after batch (store::delete_finished_tasks: one
// short transaction each, at most policy.batch tasks, rows others hold
// skipped) until none is left. It never touches an unfinished task.
//
// Every server may run one: batches skip each other's rows. A batch that
// gives up (a row stayed locked past the lock timeout) ends the run; the
// next run tries again. Its loop is a services/periodic_service.
//
// Options (retention_config; agentq serve --retain-finished,
// --retain-disagreements):
//   policy.finished_age_s      30 d     how long finished tasks are kept
//   policy.disagreement_age_s  forever  tasks with disagreement entries
//   policy.batch               500      tasks per transaction
//   interval                   60 s     pause between two runs
//   pause_between_batches      50 ms    lets claimers in between batches
//   on_deleted                 none     told each batch's count (/metrics)

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "services/periodic_service.hpp"
#include "store/retention.hpp"

namespace agentq {

class store;

struct retention_config {
  retention_policy policy;
  std::chrono::milliseconds interval{60000};
  std::chrono::milliseconds pause_between_batches{50};
  std::function<void(int tasks)> on_deleted;  // called from the service's thread
};

class retention {
 public:
  retention(std::string database_url, retention_config config);
  ~retention();

  // One run on a connection of its own: batches until nothing old is left
  // (or a batch gives up); answers how many tasks it deleted. Tests call
  // this directly.
  int run_once();

  void start() {
    m_stopping = false;
    m_service.start();
  }
  // Returns within one batch, not one whole run: a backlog of a million
  // tasks is thousands of batches.
  void stop() {
    m_stopping = true;
    m_service.stop();
  }

 private:
  int look();
  int delete_backlog(store& db);

  std::string m_database_url;
  retention_config m_config;
  std::unique_ptr<store> m_loop_store;  // the service thread's only
  std::atomic<bool> m_stopping{false};
  periodic_service m_service;           // last: its thread stops first
};

}  // namespace agentq
