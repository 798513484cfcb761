#pragma once
// The rows of the bench, one function per kind. Each makes its own fresh
// database, preloads it, runs for opts.duration_s and answers its row
// (ratios are filled in by main, once the floor is known).

#include <string>

#include "bench_database.hpp"
#include "options.hpp"
#include "report.hpp"

namespace agentq::bench {

// What every bench submission hands in (the schema checks the commit's shape).
inline constexpr const char* bench_branch = "agentq/bench";
inline constexpr const char* bench_commit = "0123456789abcdef0123456789abcdef01234567";
inline constexpr const char* bench_summary = "bench submission";

// pgbench (`mode`: prepared | extended) running the store's claim + submit SQL.
row run_floor_row(const bench_template& tpl, const options& opts, const std::string& mode,
                  int clients, const std::string& work_dir);
// The pgbench script itself, generated from agentq::sql (printed by main for --verbose use).
std::string floor_script();

// pgbench running the simplest correct SKIP LOCKED claim + complete
// (bench/sql/minimal_*.sql): the floor of this database for any queue.
row run_minimal_row(const bench_template& tpl, const options& opts, int clients,
                    const std::string& work_dir);

// A peer queue (peer: graphile | pgboss; mode: see bench/peers/run.mjs) by node.
row run_peer_row(const bench_template& tpl, const options& opts, const std::string& peer,
                 const std::string& mode, int clients, const std::string& work_dir);
// Whether opts.peers_dir has its node_modules (scripts/bench runs npm ci).
bool peers_installed(const options& opts);

// `clients` threads, each with its own agentq::store: claim(limit 1) + submit.
row run_store_row(const bench_template& tpl, const options& opts, int clients);
// One thread: claim(limit = batch), then submit each task.
row run_batch_row(const bench_template& tpl, const options& opts, int batch);
// One thread: claim_batch for `batch` agents (parked callers), then each submits.
row run_parked_batch_row(const bench_template& tpl, const options& opts, int batch);
// One thread: claim only, with `finished` done tasks in the table.
row run_index_row(const bench_template& tpl, const options& opts, int finished);

// `clients` agentq_client connections to an `agentq serve` child: claim + submit.
row run_http_row(const bench_template& tpl, const options& opts, int clients,
                 const std::string& work_dir);
// One client parked in a claim long-poll (wait_s) while another adds tasks:
// the time from a task's commit to the waiter's answer.
row run_wake_row(const bench_template& tpl, const options& opts, const std::string& work_dir);

// One `agentq serve` and opts.fleet_agents simulated agents in this process
// (bench/fleet_row.cpp): heartbeat latency, wake under load, RSS, idle cost.
row run_fleet_row(const bench_template& tpl, const options& opts, const std::string& work_dir);
// The loop with real agentq-worker and agentq-reviewer processes on a large
// generated repository, beside a git floor (bench/loop_row.cpp).
row run_loop_row(const bench_template& tpl, const options& opts, const std::string& work_dir);

// A row with its identity filled in, and its numbers from a load.
row make_row(const std::string& kind, const std::string& method, int clients);
struct load_result;
row finish_row(row r, const load_result& load, std::int64_t counted_in_db);

// "drained" / "errors" notes shared by the rows.
std::string load_note(long tasks, long counted_in_db, bool drained, long errors,
                      const std::string& first_error);

}  // namespace agentq::bench
