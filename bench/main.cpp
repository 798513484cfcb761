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
  for (auto& r : rows) {
    const row* reference = nullptr;
    if (r.kind == "wake") continue;  // a latency, no rate
    if (r.kind == "index") reference = empty_index;
    else if (r.kind == "batch") reference = find_row(rows, "floor", "pgbench -M prepared", 1);
    else reference = find_row(rows, "floor", "pgbench -M prepared", r.clients);
    if (reference && reference->tasks_per_s > 0) r.ratio = r.tasks_per_s / reference->tasks_per_s;
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
    if (opts.wants("store"))
      for (int clients : opts.clients) add(run_store_row(tpl, opts, clients));
    if (opts.wants("batch"))
      for (int batch : opts.batches) add(run_batch_row(tpl, opts, batch));
    if (opts.wants("http") && !opts.agentq.empty())
      for (int clients : opts.clients) add(run_http_row(tpl, opts, clients, work_dir));
    if (opts.wants("wake") && !opts.agentq.empty()) add(run_wake_row(tpl, opts, work_dir));
    if (opts.wants("index") && opts.finished_tasks > 0) {
      add(run_index_row(tpl, opts, 0));
      add(run_index_row(tpl, opts, opts.finished_tasks));
    }

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
