#pragma once
// One shape for the server's background services (the reaper, the merger):
// a thread that calls run_once() every interval until stop().
//
//   * run_once() answers how much it did; the loop logs one line only when
//     that is above zero ("<name>: <did> count=N"), so an idle server is quiet;
//   * an exception from run_once() is logged with what was being attempted
//     and the look is retried on the next interval (the thread lives on);
//   * stop() wakes the waiting thread at once (a condition variable, not a
//     sleep) and joins it: it returns within one run_once(), never a whole
//     interval. The destructor stops.
//
// Threads: start() and stop() may be called from any thread; run_once() runs
// on the service's thread only (tests may also call their service's own
// run_once() directly, without starting the loop).

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace agentq {

struct periodic_config {
  std::string name = "service";                 // the logger's name
  std::chrono::milliseconds interval{1000};     // pause between two looks
  std::string attempt = "look";                 // what run_once() tries, for errors
  std::string did = "did work";                 // what a count above zero means
};

class periodic_service {
 public:
  using work = std::function<int()>;

  periodic_service(periodic_config config, work run_once);
  ~periodic_service();
  periodic_service(const periodic_service&) = delete;
  periodic_service& operator=(const periodic_service&) = delete;

  // Starts the loop (the first look is immediate); a second start() while it
  // runs does nothing.
  void start();
  // Stops the loop promptly and joins it; start() may be called again.
  void stop();
  bool running() const;

  const periodic_config& config() const { return m_config; }

 private:
  void loop();

  periodic_config m_config;
  work m_run_once;
  mutable std::mutex m_mutex;
  std::condition_variable m_wake;
  bool m_stopping = false;
  std::thread m_thread;
};

}  // namespace agentq
