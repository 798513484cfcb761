#pragma once
// The server's git runs here, never on a request or database thread: a
// bounded pool with a deadline per job and a cap per remote, so one silent
// remote cannot take every thread (docs/design.md, issue 9).
//
//   post(remote_key, deadline, work, on_expired)
//
// A job is queued in arrival order and runs on one of `threads` threads once
// fewer than `per_remote` jobs of its remote_key run (a job whose remote is
// at its cap lets later jobs of other remotes pass). `deadline` is absolute
// (the caller's enqueue time + the git timeout) and covers both the wait in
// the queue and the run: a job still queued at its deadline never runs, its
// on_expired() is called instead (by a timer thread, at the deadline, even
// when every worker thread is busy); a job that starts gets the deadline
// handed to `work`, which passes it to the gateway (repo_gateway's calls end
// by then, with agentq::git::timeout).
//
// Callbacks run on executor threads; they answer their caller (a promise, a
// request's reply) and must not block for long. An exception escaping a
// callback is logged and dropped. After stop() (or when posting to a stopped
// executor) jobs that did not start get on_expired(); stop() waits for
// running jobs, which end by their deadlines.
//
// Options (git_executor_config): threads 4, per_remote 2.

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <list>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace agentq::git {

struct git_executor_config {
  int threads = 4;     // jobs running at once, all remotes together
  int per_remote = 2;  // jobs of one remote_key running at once
};

class git_executor {
 public:
  using clock = std::chrono::steady_clock;
  using work_fn = std::function<void(clock::time_point deadline)>;
  using expired_fn = std::function<void()>;

  explicit git_executor(git_executor_config config = {});
  ~git_executor();  // stop()
  git_executor(const git_executor&) = delete;
  git_executor& operator=(const git_executor&) = delete;

  // Queues `work` for `remote_key` (e.g. gitcore's remote_key(url)). Exactly
  // one of work / on_expired is called, once.
  void post(std::string remote_key, clock::time_point deadline, work_fn work,
            expired_fn on_expired);

  // Expires what is queued, waits for what runs, joins the threads. Idempotent.
  void stop();

  // Jobs queued and not started (for metrics and tests).
  std::size_t queued() const;

 private:
  struct job {
    std::string remote_key;
    clock::time_point deadline;
    work_fn work;
    expired_fn on_expired;
  };

  void run_worker();
  void run_timer();
  static void call_safely(const std::function<void()>& callback, const char* what);

  git_executor_config m_config;
  mutable std::mutex m_mutex;
  std::condition_variable m_work_ready;   // a job may be runnable
  std::condition_variable m_timer_wake;   // the earliest deadline may have changed
  std::list<job> m_queue;                 // arrival order
  std::map<std::string, int> m_running;   // remote_key -> jobs running
  bool m_stopping = false;
  std::vector<std::thread> m_threads;
};

}  // namespace agentq::git
