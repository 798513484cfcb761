#include "options.hpp"

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <sstream>
#include <stdexcept>

namespace agentq::bench {
namespace {

#ifndef AGENTQ_DEFAULT_PGBENCH
#define AGENTQ_DEFAULT_PGBENCH "pgbench"
#endif
#ifndef AGENTQ_DEFAULT_PEERS_DIR
#define AGENTQ_DEFAULT_PEERS_DIR "bench/peers"
#endif
#ifndef AGENTQ_DEFAULT_BINARY
#define AGENTQ_DEFAULT_BINARY ""
#endif
#ifndef AGENTQ_DEFAULT_WORKER
#define AGENTQ_DEFAULT_WORKER "agentq-worker"
#endif
#ifndef AGENTQ_DEFAULT_REVIEWER
#define AGENTQ_DEFAULT_REVIEWER "agentq-reviewer"
#endif

constexpr const char* usage = R"(usage: agentq-bench [options]

Measures agentq's claim path against a PostgreSQL server and prints a table.
Each row gets a fresh database cloned from a migrated template and dropped
afterwards. Rows (see docs/benchmarks.md):
  floor   pgbench running the store's own claim + submit SQL (the floor)
  minimal pgbench running the simplest correct SKIP LOCKED claim + complete
          (one table, one partial index): this database's floor for any queue
  peer    graphile-worker 0.17.3 (defaults, tuned) and pg-boss 10.4.2 (batch 1,
          --pgboss-batch) running no-op jobs, by node from --peers
  store   N threads, each with its own agentq::store, claim + submit
  batch   one thread claiming --batch tasks per statement, then submitting each
  http    N agentq_client connections to an `agentq serve` child (if built)
  wake    a claim long-poll woken by a new task: commit -> answer (if built)
  index   claim latency with --finished finished tasks in the table vs none
  fleet   one `agentq serve`, --fleet-agents simulated agents (a fifth of
          them reviewers) long-polling, heartbeating, submitting, approving:
          heartbeat p50/p99, wake p99, server RSS, idle CPU and statements
  loop    real agentq-worker x4 and agentq-reviewer x2 with instant agents on
          a repository of --loop-files files: stages from the event history,
          beside a git floor (the worker's git steps by `git` alone)

options:
  --database-url URL  server to use: a role that may CREATE DATABASE
                      (default: $AGENTQ_BENCH_DATABASE_URL; scripts/bench
                      starts a private durable server and sets it)
  --pgbench PATH      pgbench program (default: )" AGENTQ_DEFAULT_PGBENCH R"()
  --agentq PATH       agentq program for the HTTP rows (default: the one built
                      next to this bench, if any)
  --clients LIST      client counts, comma-separated (default: 1,8,16)
  --batch LIST        claim limits of the batch rows (default: 8,32)
  --floor-modes LIST  pgbench protocols for the floor: prepared (parse and
                      plan once), extended (parse and plan every call, as
                      libpqxx's exec_params does) (default: prepared)
  --duration S        whole seconds each row runs (default: 5)
  --tasks N           queued tasks preloaded for each row (default: 20000);
                      a row that empties its queue says so in its note
  --finished N        finished tasks of the index row (default: 1000000;
                      0 leaves the index rows out)
  --lease S           lease of every claim, seconds (default: 300)
  --only LIST         run only these kinds:
                      floor,minimal,peer,store,batch,http,wake,index,fleet,loop
  --node PATH         node program for the peer rows (default: node)
  --peers DIR         the peers' package (default: )" AGENTQ_DEFAULT_PEERS_DIR R"();
                      without DIR/node_modules (npm ci) the peer rows are left out
  --peer-jobs N       jobs preloaded for each peer row (default: 50000)
  --pgboss-batch N    the large batchSize of the pg-boss rows (default: 100)
  --fleet-agents N    agents of the fleet row (default: 1000)
  --fleet-lease S     the fleet's lease, 5..3600 (default: 15, scaled down
                      from 60: a heartbeat every 5 s instead of 20 s)
  --fleet-active S    seconds tasks are added to the fleet (default: 15)
  --fleet-idle S      seconds the idle fleet is measured (default: 10)
  --fleet-rate N      tasks added per second while active (default: 5)
  --loop-tasks N      tasks of the loop row (default: 200)
  --loop-files N      files in the loop row's repository (default: 10000)
  --loop-deadline S   the loop row stops its runners after S seconds, done
                      or not, and says how many tasks were done (default: 90)
  --worker PATH       agentq-worker for the loop row (default: the one built
                      next to this bench)
  --reviewer PATH     agentq-reviewer for the loop row (default: likewise)
  --json FILE         also write the rows as JSON to FILE
  --floor-script      print the floor's pgbench script (generated from the
                      store's named queries) and exit
  --help              this text

Timings are reported, never asserted: a slow row is a number, not a failure.
)";

std::vector<std::string> split(const std::string& list) {
  std::vector<std::string> out;
  std::stringstream in(list);
  std::string item;
  while (std::getline(in, item, ','))
    if (!item.empty()) out.push_back(item);
  return out;
}

std::vector<int> split_ints(const std::string& flag, const std::string& list) {
  std::vector<int> out;
  for (const auto& item : split(list)) {
    int value = std::atoi(item.c_str());
    if (value <= 0) throw std::invalid_argument(flag + ": '" + item + "' is not a positive number");
    out.push_back(value);
  }
  if (out.empty()) throw std::invalid_argument(flag + " needs at least one number");
  return out;
}

}  // namespace

bool options::wants(const std::string& kind) const {
  return only.empty() || std::find(only.begin(), only.end(), kind) != only.end();
}

options parse_options(int argc, char** argv) {
  options opts;
  if (const char* url = std::getenv("AGENTQ_BENCH_DATABASE_URL")) opts.database_url = url;
  opts.pgbench = AGENTQ_DEFAULT_PGBENCH;
  opts.agentq = AGENTQ_DEFAULT_BINARY;
  opts.peers_dir = AGENTQ_DEFAULT_PEERS_DIR;
  opts.worker = AGENTQ_DEFAULT_WORKER;
  opts.reviewer = AGENTQ_DEFAULT_REVIEWER;
  try {
    for (int i = 1; i < argc; ++i) {
      std::string flag = argv[i];
      if (flag == "--help" || flag == "-h") {
        std::cout << usage;
        std::exit(0);
      }
      if (flag == "--floor-script") {
        opts.print_floor_script = true;
        continue;
      }
      if (i + 1 >= argc) throw std::invalid_argument(flag + " needs a value (see --help)");
      std::string value = argv[++i];
      if (flag == "--database-url") opts.database_url = value;
      else if (flag == "--pgbench") opts.pgbench = value;
      else if (flag == "--agentq") opts.agentq = value;
      else if (flag == "--clients") opts.clients = split_ints(flag, value);
      else if (flag == "--batch") opts.batches = split_ints(flag, value);
      else if (flag == "--floor-modes") opts.floor_modes = split(value);
      else if (flag == "--duration") opts.duration_s = std::atoi(value.c_str());
      else if (flag == "--tasks") opts.tasks = std::atoi(value.c_str());
      else if (flag == "--finished") opts.finished_tasks = std::atoi(value.c_str());
      else if (flag == "--lease") opts.lease_s = std::atoi(value.c_str());
      else if (flag == "--only") opts.only = split(value);
      else if (flag == "--json") opts.json_path = value;
      else if (flag == "--node") opts.node = value;
      else if (flag == "--peers") opts.peers_dir = value;
      else if (flag == "--peer-jobs") opts.peer_jobs = split_ints(flag, value).front();
      else if (flag == "--pgboss-batch") opts.pgboss_batch = split_ints(flag, value).front();
      else if (flag == "--fleet-agents") opts.fleet_agents = split_ints(flag, value).front();
      else if (flag == "--fleet-lease") opts.fleet_lease_s = split_ints(flag, value).front();
      else if (flag == "--fleet-active") opts.fleet_active_s = split_ints(flag, value).front();
      else if (flag == "--fleet-idle") opts.fleet_idle_s = split_ints(flag, value).front();
      else if (flag == "--fleet-rate") opts.fleet_rate = split_ints(flag, value).front();
      else if (flag == "--loop-tasks") opts.loop_tasks = split_ints(flag, value).front();
      else if (flag == "--loop-files") opts.loop_files = split_ints(flag, value).front();
      else if (flag == "--loop-deadline") opts.loop_deadline_s = split_ints(flag, value).front();
      else if (flag == "--worker") opts.worker = value;
      else if (flag == "--reviewer") opts.reviewer = value;
      else throw std::invalid_argument("unknown option " + flag + " (see --help)");
    }
    for (const auto& mode : opts.floor_modes)
      if (mode != "prepared" && mode != "extended")
        throw std::invalid_argument("--floor-modes: unknown pgbench protocol '" + mode + "'");
    for (const auto& kind : opts.only)
      if (kind != "floor" && kind != "minimal" && kind != "peer" && kind != "store" &&
          kind != "batch" && kind != "http" && kind != "wake" && kind != "index" &&
          kind != "fleet" && kind != "loop")
        throw std::invalid_argument("--only: unknown row kind '" + kind + "'");
    if (opts.duration_s <= 0) throw std::invalid_argument("--duration must be positive");
    if (opts.tasks <= 0) throw std::invalid_argument("--tasks must be positive");
    if (opts.finished_tasks < 0) throw std::invalid_argument("--finished must be 0 or more");
    if (opts.lease_s <= 0) throw std::invalid_argument("--lease must be positive");
    if (opts.fleet_lease_s < 5 || opts.fleet_lease_s > 3600)
      throw std::invalid_argument("--fleet-lease must be 5..3600 (the server's lease range)");
    if (opts.fleet_agents < 2) throw std::invalid_argument("--fleet-agents must be 2 or more");
    if (opts.database_url.empty() && !opts.print_floor_script)
      throw std::invalid_argument(
          "no server: pass --database-url or set AGENTQ_BENCH_DATABASE_URL (scripts/bench starts "
          "a private PostgreSQL and sets it)");
  } catch (const std::invalid_argument& e) {
    std::cerr << "agentq-bench: " << e.what() << "\n";
    std::exit(2);
  }
  return opts;
}

}  // namespace agentq::bench
