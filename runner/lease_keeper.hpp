#pragma once
// Keeps a claim's lease alive while its command runs (docs/api.md §6).
//
// A thread heartbeats every lease/3 with the command's latest output line as
// progress (the first at once when the claim came with a short first lease). The lease is lost — and on_lost runs AT ONCE, from this thread,
// to kill the command's process group — when:
//   - the server refuses the heartbeat (409 stale_token / lease_expired: the
//     task was cancelled or reclaimed; 401/403/404 likewise: the claim can
//     no longer be used), or
//   - the server cannot be reached (or answers 5xx) until the lease, as last
//     renewed, would have run out.
// Deadlines are measured on this machine's steady clock from the moment each
// heartbeat was SENT, so a slow answer never makes the runner think it has
// more time than the server gives it.

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace agentq::runner {

using lease_clock = std::chrono::steady_clock;

// What one heartbeat call came back with.
struct heartbeat_reply {
  enum class kind {
    renewed,      // 200
    refused,      // 409 and the other 4xx: the claim is gone
    unavailable,  // unreachable, timed out, 5xx: try again while the lease lasts
  };
  kind outcome = kind::unavailable;
  std::string detail;  // the error code or message, for the log
};

struct lease_decision {
  enum class action { keep, retry, lost };
  action what = action::keep;
  lease_clock::time_point next_beat;  // keep / retry: when to beat again
  lease_clock::time_point deadline;   // the lease's end as the runner now knows it
  std::string why;                    // lost: for the log and the release reason
};

// The pure rule. `sent`: when the heartbeat was sent; `deadline`: the lease's
// end before it; `lease`: the claim's lease length.
lease_decision decide(const heartbeat_reply& reply, lease_clock::time_point sent,
                      lease_clock::time_point now, lease_clock::time_point deadline,
                      std::chrono::milliseconds lease);

class lease_keeper {
 public:
  // beat: sends one heartbeat with the given progress and a time limit for
  // the call; must not throw. progress: the latest output line.
  using beat_fn = std::function<heartbeat_reply(const std::string& progress,
                                                std::chrono::milliseconds limit)>;
  using progress_fn = std::function<std::string()>;
  using lost_fn = std::function<void(const std::string& why)>;

  // claimed_at: when the claim was asked for (the lease counts from then).
  // first_lease: the claim's short first lease (docs/api.md §5), when it is
  // shorter than `lease`: the first heartbeat goes out at once, and the
  // lease lasts first_lease until a heartbeat renews it.
  lease_keeper(std::chrono::milliseconds lease, lease_clock::time_point claimed_at, beat_fn beat,
               progress_fn progress, lost_fn on_lost,
               std::chrono::milliseconds first_lease = std::chrono::milliseconds(0));
  ~lease_keeper();  // stop()
  lease_keeper(const lease_keeper&) = delete;
  lease_keeper& operator=(const lease_keeper&) = delete;

  // Stops beating (the command ended); joins the thread. Idempotent.
  void stop();

  bool lost() const;
  std::string lost_reason() const;
  // True while the lease, as last renewed, has not run out.
  bool alive() const;
  int beats() const;  // heartbeats the server renewed

 private:
  void loop();

  std::chrono::milliseconds m_lease;
  beat_fn m_beat;
  progress_fn m_progress;
  lost_fn m_on_lost;
  mutable std::mutex m_mutex;
  std::condition_variable m_wake;
  bool m_stopping = false;
  bool m_lost = false;
  std::string m_lost_reason;
  lease_clock::time_point m_deadline;
  lease_clock::time_point m_first_beat;
  bool m_short_first = false;  // the claim came with a short first lease
  int m_beats = 0;
  std::thread m_thread;
};

}  // namespace agentq::runner
