#include "load.hpp"

#include <atomic>
#include <exception>
#include <latch>
#include <mutex>
#include <thread>

namespace agentq::bench {

load_result run_clients(int clients, int duration_s, const client_factory& make_client) {
  using clock = std::chrono::steady_clock;
  std::vector<cycle_fn> cycles;
  for (int i = 0; i < clients; ++i) cycles.push_back(make_client(i));

  load_result result;
  std::mutex merge;
  std::latch start(clients + 1);
  clock::time_point deadline;  // written before the latch opens
  std::vector<std::thread> threads;
  for (int i = 0; i < clients; ++i) {
    threads.emplace_back([&, i] {
      std::vector<double> latencies;
      latencies.reserve(1 << 16);
      long tasks = 0, errors = 0;
      bool drained = false;
      std::string first_error;
      start.arrive_and_wait();
      while (clock::now() < deadline) {
        auto began = clock::now();
        try {
          int done = cycles[i]();
          if (done == 0) {
            drained = true;
            break;
          }
          tasks += done;
          latencies.push_back(
              std::chrono::duration<double, std::milli>(clock::now() - began).count());
        } catch (const std::exception& e) {
          if (errors++ == 0) first_error = e.what();
          if (errors > 100) break;  // a broken setup, not a slow one
        }
      }
      std::lock_guard lock(merge);
      result.tasks += tasks;
      result.errors += errors;
      result.drained = result.drained || drained;
      if (result.first_error.empty()) result.first_error = first_error;
      result.latencies_ms.insert(result.latencies_ms.end(), latencies.begin(), latencies.end());
    });
  }
  auto began = clock::now();
  deadline = began + std::chrono::seconds(duration_s);
  start.arrive_and_wait();
  for (auto& thread : threads) thread.join();
  // The window ends at the deadline, or earlier if every client drained.
  result.seconds = std::chrono::duration<double>(clock::now() - began).count();
  return result;
}

}  // namespace agentq::bench
