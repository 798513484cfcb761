// agentq-bench: the claim path's throughput and latency, each row next to a
// floor measured in the same run on the same server. See --help and
// docs/benchmarks.md. Timings are printed, never asserted.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>
#include <iostream>
#include <map>
#include <vector>

#include <pqxx/pqxx>

#include <bench/bench_sql.hpp>

#include "bench_database.hpp"
#include "options.hpp"
#include "report.hpp"
#include "rows.hpp"

namespace {

using namespace agentq::bench;

std::map<std::string, std::string> server_settings(const std::string& server_url) {
  pqxx::connection conn(url_for_database(server_url, "postgres"));
  pqxx::read_transaction tx(conn);
  std::map<std::string, std::string> settings;
  for (const auto& line : tx.exec(std::string(sql::server_settings)))
    settings[line[0].c_str()] = line[1].c_str();
  return settings;
}

const row* find_row(const std::vector<row>& rows, const std::string& kind,
                    const std::string& method, int clients) {
  for (const auto& r : rows)
    if (r.kind == kind && r.method == method && r.clients == clients) return &r;
  return nullptr;
}

// Ratios against the reference rows, once every row has run.
void fill_ratios(std::vector<row>& rows) {
  const row* empty_index = nullptr;
  for (const auto& r : rows)
    if (r.kind == "index" && r.method.find(", 0 done") != std::string::npos) empty_index = &r;
  // The batch rows' graphile-worker: tuned (it fetches in batches too), at
  // the most clients it ran with.
  const row* graphile_tuned = nullptr;
  for (const auto& r : rows)
    if (r.kind == "peer" && r.method == "graphile-worker 0.17.3 tuned" &&
        (!graphile_tuned || r.clients > graphile_tuned->clients))
      graphile_tuned = &r;
  for (auto& r : rows) {
    const row* reference = nullptr;
    if (r.kind == "wake" || r.kind == "fleet" || r.kind == "loop") continue;  // own references
    if (r.kind == "index") reference = empty_index;
    else if (r.kind == "batch") reference = find_row(rows, "floor", "pgbench -M prepared", 1);
    else if (r.kind == "minimal" || r.kind == "peer")
      reference = find_row(rows, "minimal", "pgbench SKIP LOCKED, 1 table", r.clients);
    else reference = find_row(rows, "floor", "pgbench -M prepared", r.clients);
    if (reference && reference->tasks_per_s > 0) r.ratio = r.tasks_per_s / reference->tasks_per_s;

    const row* graphile = nullptr;
    if (r.kind == "batch") graphile = graphile_tuned;
    else if (r.kind == "floor" || r.kind == "store" || r.kind == "http")
      graphile = find_row(rows, "peer", "graphile-worker 0.17.3 defaults", r.clients);
    if (graphile && graphile->tasks_per_s > 0) {
      r.ratio_graphile = r.tasks_per_s / graphile->tasks_per_s;
      r.graphile_versus = graphile->method + ", " + std::to_string(graphile->clients) + " clients";
    }
  }
}

// The machine's load when the run started: a shared machine makes noisy rows.
std::string load_average() {
  std::ifstream in("/proc/loadavg");
  std::string one, five, fifteen;
  in >> one >> five >> fifteen;
  return one + " " + five + " " + fifteen + "\n";
}

std::string make_work_dir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "agentq-bench.XXXXXX").string();
  if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
  return pattern;
}

}  // namespace

int main(int argc, char** argv) {
  auto opts = parse_options(argc, argv);
  if (opts.print_floor_script) {
    std::cout << floor_script();
    return 0;
  }
  try {
    auto settings = server_settings(opts.database_url);
    print_header(settings);
    std::printf("agentq-bench: %d s per row, %d queued tasks preloaded per row, %u cores, load %s",
                opts.duration_s, opts.tasks, std::thread::hardware_concurrency(),
                load_average().c_str());
    std::fflush(stdout);
    bench_template tpl(opts.database_url);
    auto work_dir = make_work_dir();
    std::vector<row> rows;
    auto add = [&](row r) {
      print_row(r);
      rows.push_back(std::move(r));
    };

    if (opts.wants("floor"))
      for (const auto& mode : opts.floor_modes)
        for (int clients : opts.clients) add(run_floor_row(tpl, opts, mode, clients, work_dir));
    if (opts.wants("minimal"))
      for (int clients : opts.clients) add(run_minimal_row(tpl, opts, clients, work_dir));
    if (opts.wants("peer")) {
      if (!peers_installed(opts)) {
        std::fprintf(stderr, "agentq-bench: no peer rows: %s/node_modules is missing (run npm ci "
                     "there; scripts/bench does)\n", opts.peers_dir.c_str());
      } else {
        const std::vector<std::pair<std::string, std::string>> peers{
            {"graphile", "defaults"}, {"graphile", "tuned"}, {"pgboss", "batch1"},
            {"pgboss", "batch" + std::to_string(opts.pgboss_batch)}};
        for (const auto& [peer, mode] : peers)
          for (int clients : opts.clients)
            add(run_peer_row(tpl, opts, peer, mode, clients, work_dir));
      }
    }
    if (opts.wants("store"))
      for (int clients : opts.clients) add(run_store_row(tpl, opts, clients));
    if (opts.wants("batch"))
      for (int batch : opts.batches) add(run_batch_row(tpl, opts, batch));
    if (opts.wants("batch"))
      for (int batch : opts.batches) add(run_parked_batch_row(tpl, opts, batch));
    if (opts.wants("http") && !opts.agentq.empty())
      for (int clients : opts.clients) add(run_http_row(tpl, opts, clients, work_dir));
    if (opts.wants("wake") && !opts.agentq.empty()) add(run_wake_row(tpl, opts, work_dir));
    if (opts.wants("index") && opts.finished_tasks > 0) {
      add(run_index_row(tpl, opts, 0));
      add(run_index_row(tpl, opts, opts.finished_tasks));
    }
    if (opts.wants("fleet") && !opts.agentq.empty()) add(run_fleet_row(tpl, opts, work_dir));
    if (opts.wants("loop") && !opts.agentq.empty()) add(run_loop_row(tpl, opts, work_dir));

    fill_ratios(rows);
    print_table(rows);
    if (opts.json_path) write_json(*opts.json_path, settings, rows);
    std::filesystem::remove_all(work_dir);
  } catch (const std::exception& e) {
    std::cerr << "agentq-bench: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
