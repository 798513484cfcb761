#pragma once
// Drives N clients for a fixed time, each in its own thread with its own
// state (a store, an HTTP client), and collects what they did.

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace agentq::bench {

struct load_result {
  long tasks = 0;
  double seconds = 0;
  std::vector<double> latencies_ms;  // one per cycle
  bool drained = false;              // a client found the queue empty
  long errors = 0;
  std::string first_error;
};

// One client: called once per cycle; answers how many tasks the cycle
// finished, 0 when there was nothing to claim. Throws on a refusal or error.
using cycle_fn = std::function<int()>;
// Makes client number i (its connection is opened here, before the clock
// starts, as pgbench connects before it measures).
using client_factory = std::function<cycle_fn(int i)>;

load_result run_clients(int clients, int duration_s, const client_factory& make_client);

}  // namespace agentq::bench
