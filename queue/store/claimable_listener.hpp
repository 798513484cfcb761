#pragma once
// The claimable listener: one dedicated connection doing LISTEN
// agentq_claimable (the schema's trigger sends it, payload = the queue,
// whenever a task becomes queued, awaiting_review or done, on any server) and
// passing each queue name on. When the connection breaks it reconnects with
// a pause and reports `on_reconnect`, since notifications sent meanwhile are
// lost. The server wakes its parked long-poll claims with it.
//
// Not a services/periodic_service: it has no interval to sleep (it waits on
// its socket, back to back), what it does (a notification) is far too
// frequent to log a line for, and its failures are a state (log "down" once,
// reconnect after retry_pause, report on_reconnect once it is back), not a
// look that failed and is retried on the next interval.

#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <thread>

namespace agentq {

class claimable_listener {
 public:
  using on_queue = std::function<void(const std::string& queue)>;
  using on_reconnect = std::function<void()>;

  claimable_listener(std::string database_url, on_queue queue_callback,
                     on_reconnect reconnect_callback,
                     std::chrono::milliseconds retry_pause = std::chrono::milliseconds(500));
  ~claimable_listener();
  claimable_listener(const claimable_listener&) = delete;
  claimable_listener& operator=(const claimable_listener&) = delete;

  void start();
  void stop();
  bool listening() const { return m_listening; }

 private:
  void loop();

  std::string m_url;
  on_queue m_on_queue;
  on_reconnect m_on_reconnect;
  std::chrono::milliseconds m_retry_pause;
  std::atomic<bool> m_stopping{false};
  std::atomic<bool> m_listening{false};
  std::thread m_thread;
};

}  // namespace agentq
