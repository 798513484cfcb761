#include "report.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

namespace agentq::bench {

double percentile(std::vector<double> samples_ms, double p) {
  if (samples_ms.empty()) return 0;
  // Nearest rank: the smallest sample with at least p of them at or below it.
  auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * samples_ms.size()));
  if (rank > 0) --rank;
  rank = std::min(rank, samples_ms.size() - 1);
  std::nth_element(samples_ms.begin(), samples_ms.begin() + static_cast<long>(rank),
                   samples_ms.end());
  return samples_ms[rank];
}

void print_header(const std::map<std::string, std::string>& settings) {
  std::printf("agentq-bench: PostgreSQL");
  for (const auto& [name, value] : settings) std::printf(" %s=%s", name.c_str(), value.c_str());
  std::printf("\n");
}

namespace {

void print_line(std::FILE* out, const row& r) {
  char ratio[32] = "", versus_graphile[32] = "";
  if (r.ratio) std::snprintf(ratio, sizeof ratio, "%.2f", *r.ratio);
  if (r.ratio_graphile) std::snprintf(versus_graphile, sizeof versus_graphile, "%.2f", *r.ratio_graphile);
  char rate[32] = "-";  // the wake row measures a latency, not a rate
  if (r.tasks_per_s > 0)  // the loop row runs well under 10 tasks/s: keep its digits
    std::snprintf(rate, sizeof rate, r.tasks_per_s < 10 ? "%.2f" : "%.0f", r.tasks_per_s);
  std::fprintf(out, "%-7s %-34s %7d %9s %9.2f %9.2f %7s %7s  %s\n", r.kind.c_str(),
               r.method.c_str(), r.clients, rate, r.p50_ms, r.p99_ms, ratio, versus_graphile,
               r.note.c_str());
}

void print_columns() {
  std::printf("%-7s %-34s %7s %9s %9s %9s %7s %7s  %s\n", "kind", "method", "clients",
              "tasks/s", "p50 ms", "p99 ms", "ratio", "/gw", "note");
}

}  // namespace

void print_row(const row& r) {
  std::fprintf(stderr, "  ");
  print_line(stderr, r);
}

void print_table(const std::vector<row>& rows) {
  std::printf("\n");
  print_columns();
  for (const auto& r : rows) print_line(stdout, r);
  std::printf(
      "\nratio: tasks/s over the floor (pgbench -M prepared) at the same client count;\n"
      "batch rows over the 1-client floor; index rows over the empty-table index row;\n"
      "minimal and peer rows over the minimal row at the same client count.\n"
      "/gw: agentq rows over graphile-worker defaults at the same client count\n"
      "(batch rows: over graphile-worker tuned at the most clients run).\n"
      "fleet: p50/p99 of heartbeats, tasks/s of tasks merged; loop: p50/p99 of\n"
      "claimed -> submitted; both print their other numbers and targets in the note.\n");
  std::fflush(stdout);
}

void write_json(const std::string& path, const std::map<std::string, std::string>& settings,
                const std::vector<row>& rows) {
  nlohmann::json out = {{"settings", settings}, {"rows", nlohmann::json::array()}};
  for (const auto& r : rows) {
    nlohmann::json j = {{"kind", r.kind},       {"method", r.method},   {"clients", r.clients},
                        {"tasks", r.tasks},     {"seconds", r.seconds}, {"tasks_per_s", r.tasks_per_s},
                        {"p50_ms", r.p50_ms},   {"p99_ms", r.p99_ms},   {"note", r.note},
                        {"ratio", nullptr},     {"versus", r.versus}};
    if (r.ratio) j["ratio"] = *r.ratio;
    j["ratio_floor"] = j["ratio"];  // the same number, by the name the kinds share
    if (r.kind == "minimal" || r.kind == "peer") j["ratio_floor"] = nullptr;
    j["ratio_graphile"] = nullptr;
    if (r.ratio_graphile) {
      j["ratio_graphile"] = *r.ratio_graphile;
      j["graphile_versus"] = r.graphile_versus;
    }
    for (const auto& [name, value] : r.extra) j[name] = value;
    out["rows"].push_back(j);
  }
  std::ofstream file(path);
  if (!file) throw std::runtime_error("cannot write " + path);
  file << out.dump(2) << "\n";
}

}  // namespace agentq::bench
