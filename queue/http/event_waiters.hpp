#pragma once
// Parked long-polls of the event feed (GET /v1/events?after=N&wait_s=S, the
// people's page follows the queue with it). A parked poll holds no thread and
// no connection: it is an entry in a map until the history has an event past
// its cursor, or its wait ran out.
//
// What wakes them: a tick (every poll_interval) that, while any poll is
// parked, asks the database once for the newest event id (one indexed query
// for all of them, whatever their number) and answers the polls behind it
// with their events, and the overdue ones with an empty page. Events come
// from every server sharing the database, so no in-process signal would do.
//
// Each parked poll is answered exactly once: with events, with an empty page
// at its deadline, with 204 at shutdown, or not at all when its client went
// away (cancel).

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <thread>

#include "http/db_pool.hpp"
#include "http/handler.hpp"

namespace agentq {

struct event_waiters_config {
  std::chrono::milliseconds poll_interval{500};
};

class event_waiters {
 public:
  using completion = std::function<void(http_reply)>;  // from any thread, once

  explicit event_waiters(db_pool& pool, event_waiters_config config = {});
  ~event_waiters();

  void start();
  // Answers every parked poll with 204 and parks no more (later parks get
  // 204 at once).
  void shutdown();

  std::uint64_t park(parked_events poll, completion done);
  void cancel(std::uint64_t id);  // the client went away: drop without answering
  std::size_t size() const;

 private:
  struct entry {
    parked_events poll;
    std::chrono::steady_clock::time_point deadline;
    completion done;
  };

  void timer_loop();
  void answer_due(db_slot& slot);

  db_pool& m_pool;
  event_waiters_config m_config;
  mutable std::mutex m_mutex;
  std::condition_variable m_wake;
  std::map<std::uint64_t, entry> m_entries;
  std::uint64_t m_next_id = 1;
  bool m_checking = false;  // a database check is queued or running
  bool m_stopping = false;
  std::thread m_timer;
};

}  // namespace agentq
