#pragma once
// One row of the bench's table, the statistics behind it, and the table and
// JSON it is printed as.

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace agentq::bench {

struct row {
  std::string kind;    // floor | minimal | peer | store | batch | http | wake | index | fleet | loop
  std::string method;  // what ran, e.g. "pgbench -M prepared"
  int clients = 1;
  long tasks = 0;      // tasks claimed and submitted (index rows: claimed)
  double seconds = 0;  // the measured window
  double tasks_per_s = 0;
  double p50_ms = 0;   // per cycle (see the note of batch and index rows)
  double p99_ms = 0;
  std::optional<double> ratio;  // tasks/s over the reference row's
  std::optional<double> ratio_graphile;  // agentq rows: over graphile-worker at the same clients
  std::string graphile_versus;           // which graphile-worker row
  std::string versus;           // what ratio compares with
  std::string note;
  std::map<std::string, double> extra;  // row-specific numbers (fleet: rss_mb, ...), JSON only
};

// Latencies of one row, in milliseconds.
double percentile(std::vector<double> samples_ms, double p);

void print_header(const std::map<std::string, std::string>& settings);
void print_row(const row& r);  // to stderr as soon as a row is done: progress
void print_table(const std::vector<row>& rows);
void write_json(const std::string& path, const std::map<std::string, std::string>& settings,
                const std::vector<row>& rows);

}  // namespace agentq::bench
