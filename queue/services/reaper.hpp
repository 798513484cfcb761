#pragma once
// The reaper returns tasks whose lease ran out to their queue (or fails them
// when their attempts are used up), so a task whose holder died is claimable
// again within its lease plus one interval (CONTRACT §4.4). Every server runs
// one; the query skips locked rows, so any number may run at once.

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

namespace agentq {

struct reaper_config {
  std::chrono::milliseconds interval{1000};  // how often to look
  int batch = 500;                           // most tasks returned per look
};

class reaper {
 public:
  reaper(std::string database_url, reaper_config config = {});
  ~reaper();

  // One look: answers how many tasks it returned. Tests call this directly.
  int run_once();

  // Looks every interval on a thread of its own until stop() or destruction.
  void start();
  void stop();

 private:
  void loop();

  std::string m_database_url;
  reaper_config m_config;
  std::mutex m_mutex;
  std::condition_variable m_wake;
  bool m_stopping = false;
  std::thread m_thread;
};

}  // namespace agentq
