#pragma once
// Parked long-poll claims (POST /v1/claims with wait_s). A parked claim holds
// no thread and no connection: it is an entry in a map until a task may have
// come for it. Then one drain job, on a pool connection, retries the parked
// claims in arrival order and answers those that got a task.
//
// What wakes them:
//   - notify(queue): the claimable listener heard `agentq_claimable` (a task became
//     queued, awaiting_review or done in that queue, on any server);
//   - a slow sweep (every sweep_interval) as the backstop: run_after coming
//     due, leases that ran out (no notification), notifications missed while
//     the listening connection was down.
// The drain retries them in batches: the parked claims of one role with one
// queue filter (in arrival order, up to max_batch) are one statement
// (store::claim_batch), which gives each its own task, token and claims row
// as one claim each would. It stops retrying a filter once a batch came back
// short (they would all find nothing; a reviewer's batch: nobody got one),
// so ten thousand idle waiters cost a few queries per sweep, not ten
// thousand. A claim that came back empty is remembered (empty_claims) until
// the next notification or sweep, so the route parks a long-poll like it
// without a query.
//
// Each parked claim is answered exactly once: with a claim, with 204 at its
// deadline or at shutdown, or not at all when its client went away (cancel).
// A client that went away while its claim was in a batch is answered anyway
// (into a closed connection): its task comes back when the claim's short
// first lease runs out, like any claim answer nobody acts on.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "http/db_pool.hpp"
#include "http/handler.hpp"

namespace agentq {

struct claim_waiters_config {
  std::chrono::milliseconds sweep_interval{1000};
  int max_empty_per_drain = 16;  // empty batches before a drain gives up on a role
  int max_batch = 100;           // parked claims served by one statement
};

class empty_claims;

class claim_waiters {
 public:
  using completion = std::function<void(http_reply)>;  // from any thread, once

  // memory: what came back empty (may be null); told of every change.
  claim_waiters(request_handler& handler, db_pool& pool, claim_waiters_config config = {},
                empty_claims* memory = nullptr);
  ~claim_waiters();

  void start();
  // Answers every parked claim with 204 and parks no more (later parks get
  // 204 at once).
  void shutdown();

  // A counter of notifications: read it before trying a claim, pass it to
  // park(); a notification in between triggers a retry right away.
  std::uint64_t generation() const;
  std::uint64_t park(parked_claim claim, std::uint64_t seen_generation, completion done);
  void cancel(std::uint64_t id);  // the client went away: drop without answering

  void notify(const std::string& queue);  // a task may be claimable in `queue`
  void notify_all();                      // anything may be claimable

  std::size_t size() const;  // parked now (open long-polls)

 private:
  struct entry {
    parked_claim claim;
    std::string key;  // role and queues: claims with one key are batched
    std::chrono::steady_clock::time_point deadline;
    completion done;
  };

  void timer_loop();
  void schedule_drain_locked();
  struct drain_state;
  using batch = std::vector<std::pair<std::uint64_t, entry>>;
  void drain(db_slot& slot);
  batch take_batch(const std::vector<std::uint64_t>& ids, const drain_state& state);
  bool run_batch(db_slot& slot, batch& taken, drain_state& state);  // false: database away
  void changed();
  void expire_overdue();

  request_handler& m_handler;
  db_pool& m_pool;
  claim_waiters_config m_config;
  empty_claims* m_memory;

  mutable std::mutex m_mutex;
  std::condition_variable m_wake;
  std::map<std::uint64_t, entry> m_entries;  // by arrival: ids only grow
  std::multimap<std::chrono::steady_clock::time_point, std::uint64_t> m_deadlines;
  std::set<std::uint64_t> m_in_drain;  // entries taken out by the drain right now
  std::set<std::uint64_t> m_gone;      // of those, cancelled meanwhile
  std::uint64_t m_next_id = 1;
  std::uint64_t m_generation = 0;
  std::set<std::string> m_pending_queues;  // woken, not yet drained
  bool m_pending_all = false;
  bool m_drain_scheduled = false;
  bool m_stopping = false;
  std::thread m_timer;
};

}  // namespace agentq
