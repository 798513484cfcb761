#pragma once
// agentq-bench's command line. Every size and duration is a flag, so a slow
// machine can shrink the run and a fast one can lengthen it.

#include <optional>
#include <string>
#include <vector>

namespace agentq::bench {

struct options {
  std::string database_url;  // a role that may CREATE DATABASE
  std::string pgbench;       // the floor's program
  std::string agentq;        // `agentq serve`, for the HTTP rows
  std::vector<int> clients{1, 8, 16};
  std::vector<int> batches{8, 32};
  std::vector<std::string> floor_modes{"prepared"};
  std::vector<std::string> only;  // empty: every kind of row
  int duration_s = 5;
  int tasks = 20000;               // queued tasks preloaded for each row
  int finished_tasks = 1000000;    // the index row's finished tasks; 0 skips it
  int lease_s = 300;
  std::optional<std::string> json_path;
  std::string node = "node";  // runs the peers
  std::string peers_dir;      // bench/peers, with node_modules installed (npm ci)
  int peer_jobs = 50000;      // jobs preloaded for each peer row
  int pgboss_batch = 100;     // the large batch of the pg-boss rows (the other is 1)
  bool print_floor_script = false;  // print the pgbench script and exit
  std::string worker;         // agentq-worker, for the loop row
  std::string reviewer;       // agentq-reviewer, for the loop row
  int fleet_agents = 1000;    // the fleet row's agents (a fifth of them reviewers)
  int fleet_lease_s = 15;     // its lease (heartbeat every third)
  int fleet_active_s = 15;    // its active phase (tasks added)
  int fleet_idle_s = 10;      // its idle phase (CPU and statements measured)
  int fleet_rate = 5;         // tasks added per second in the active phase
  int loop_tasks = 200;       // the loop row's tasks
  int loop_files = 10000;     // files in the loop row's repository
  int loop_deadline_s = 90;   // the loop row stops its runners then, done or not

  bool wants(const std::string& kind) const;
};

// Parses argv; prints --help or an error and exits when it must.
options parse_options(int argc, char** argv);

}  // namespace agentq::bench
