#pragma once
// The reaper returns tasks whose lease ran out to their queue (or fails them
// when their attempts are used up), so a task whose holder died is claimable
// again within its lease plus one interval (docs/api.md §4.4). Every server runs
// one; the query skips locked rows, so any number may run at once. Its loop
// is a services/periodic_service.

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "services/periodic_service.hpp"

namespace agentq {

class store;

struct reaper_config {
  std::chrono::milliseconds interval{1000};  // how often to look
  int batch = 500;                           // most tasks returned per look
  // Told each batch's count, from the service's thread (/metrics counts
  // lease expirations this way, never from the event history).
  std::function<void(int tasks)> on_returned;
};

class reaper {
 public:
  reaper(std::string database_url, reaper_config config = {});
  ~reaper();

  // One look on a connection of its own: answers how many tasks it returned.
  // Tests call this directly.
  int run_once();

  // Looks every interval on a thread of its own until stop() or destruction.
  void start() { m_service.start(); }
  void stop() { m_service.stop(); }

 private:
  // The loop's look: keeps its connection between looks, drops it on failure.
  int look();

  std::string m_database_url;
  reaper_config m_config;
  std::unique_ptr<store> m_loop_store;  // the service thread's only
  periodic_service m_service;
};

}  // namespace agentq
