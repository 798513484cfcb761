#pragma once
// Database work off the I/O thread: N threads, each with a store (one
// connection) of its own, taking jobs from one queue. The store is not
// thread-safe, so a connection is only ever used by its thread.
//
// A connection that failed is dropped, and the next job that needs one
// connects anew at once. A connect that fails is not tried again for
// `reconnect_pause`, so while the database is down requests fail fast (503)
// instead of queueing behind connection attempts.
//
// Two lanes: short guarded calls (a heartbeat: one indexed update) are posted
// to the short lane, which every thread serves first, and `reserved` more
// threads (connections) serve only it. So a heartbeat never waits behind a
// burst of claims, submits and drains for a connection: its lease must not
// run out because other work was queued (the fleet row, docs/benchmarks.md).

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "store/store.hpp"

namespace agentq {

// What a job gets: its thread's store, connected on first use.
class db_slot {
 public:
  db_slot(const std::string& url, std::chrono::milliseconds reconnect_pause)
      : m_url(url), m_reconnect_pause(reconnect_pause) {}
  // The store, connecting if needed; throws database_unavailable when the
  // database cannot be reached (or could not be, moments ago).
  store& get();
  // Forget the connection (it failed); the next get() reconnects.
  void drop();

 private:
  const std::string& m_url;
  std::chrono::milliseconds m_reconnect_pause;
  std::unique_ptr<store> m_store;
  std::chrono::steady_clock::time_point m_failed_at{};
  bool m_failed = false;
};

class db_pool {
 public:
  using job = std::function<void(db_slot&)>;

  enum class lane { normal, short_call };

  db_pool(std::string database_url, int size,
          std::chrono::milliseconds reconnect_pause = std::chrono::milliseconds(500),
          int reserved = 0);
  ~db_pool();
  db_pool(const db_pool&) = delete;
  db_pool& operator=(const db_pool&) = delete;

  void post(job work, lane which = lane::normal);
  std::size_t queued() const;
  // Runs what is queued, then joins the threads. Later posts are dropped.
  void stop();

 private:
  void run(bool short_only);

  std::string m_url;
  std::chrono::milliseconds m_reconnect_pause;
  mutable std::mutex m_mutex;
  std::condition_variable m_wake;
  std::deque<job> m_jobs;
  std::deque<job> m_short_jobs;
  std::condition_variable m_wake_short;  // the reserved threads wait here
  bool m_stopping = false;
  std::vector<std::thread> m_threads;
};

}  // namespace agentq
