#include "rows.hpp"

#include <memory>
#include <stdexcept>

#include <pqxx/pqxx>

#include <agentq/sql.hpp>
#include <bench/bench_sql.hpp>

#include "load.hpp"

namespace agentq::bench {
namespace {

submit_request submission(std::int64_t token) {
  return submit_request{token, bench_branch, bench_commit, bench_summary};
}

void submit_or_throw(store& queue, const claim_grant& grant, const agent_identity& agent) {
  auto submitted = queue.submit(grant.task_id, submission(grant.token), agent);
  if (!submitted)
    throw std::runtime_error("submit of task " + std::to_string(grant.task_id) +
                             " refused: " + submitted.error().message);
}

}  // namespace

row make_row(const std::string& kind, const std::string& method, int clients) {
  row r;
  r.kind = kind;
  r.method = method;
  r.clients = clients;
  return r;
}

row finish_row(row r, const load_result& load, std::int64_t counted) {
  r.tasks = load.tasks;
  r.seconds = load.seconds;
  r.tasks_per_s = load.seconds > 0 ? load.tasks / load.seconds : 0;
  r.p50_ms = percentile(load.latencies_ms, 50);
  r.p99_ms = percentile(load.latencies_ms, 99);
  auto problems = load_note(load.tasks, counted, load.drained, load.errors, load.first_error);
  if (!problems.empty()) r.note = problems + (r.note.empty() ? "" : "; " + r.note);
  return r;
}

namespace {

// The scans in the plan of a worker claim on every queue: which index (or
// sequential scan) a claim walks.
std::string claim_plan_scans(const std::string& url, const agent_identity& agent, int lease_s) {
  pqxx::connection conn(url);
  pqxx::read_transaction tx(conn);
  std::string query = std::string(sql::explain_prefix) + std::string(agentq::sql::tasks_claim_worker);
  std::optional<std::string> none;
  auto plan = tx.exec_params(query, agent.id, agent.name, none, 1, lease_s, none, lease_s);
  // "Seq Scan on tasks t" -> "seq tasks"; "Index Scan using tasks_pkey on ..."
  // and "Bitmap Index Scan on tasks_pkey" -> "tasks_pkey".
  std::string summary;
  auto add = [&](const std::string& item) {
    if (("," + summary + ",").find("," + item + ",") == std::string::npos)
      summary += (summary.empty() ? "" : ",") + item;
  };
  for (const auto& line : plan) {
    std::string text = line[0].c_str();
    if (auto at = text.find("Seq Scan on "); at != std::string::npos) {
      auto table = text.substr(at + 12);
      add("seq " + table.substr(0, table.find(' ')));
    }
    for (const std::string marker : {" using ", "Bitmap Index Scan on "}) {
      if (auto at = text.find(marker); at != std::string::npos) {
        auto index = text.substr(at + marker.size());
        add(index.substr(0, index.find(' ')));
      }
    }
  }
  return summary;
}

}  // namespace

std::string load_note(long tasks, long counted_in_db, bool drained, long errors,
                      const std::string& first_error) {
  std::string note;
  auto add = [&](const std::string& part) { note += (note.empty() ? "" : "; ") + part; };
  if (counted_in_db >= 0 && counted_in_db != tasks)
    add("MISMATCH: counted " + std::to_string(tasks) + " cycles, database has " +
        std::to_string(counted_in_db) + " submitted");
  if (drained) add("queue ran dry: raise --tasks");
  if (errors) add(std::to_string(errors) + " errors, first: " + first_error);
  return note;
}

row run_store_row(const bench_template& tpl, const options& opts, int clients) {
  bench_database db(tpl);
  db.load_queued(opts.tasks);
  db.vacuum_analyze();
  auto load = run_clients(clients, opts.duration_s, [&](int) -> cycle_fn {
    auto queue = std::make_shared<store>(db.url());
    return [queue, &db, &opts] {
      auto grants = queue->claim(db.worker(), {}, opts.lease_s, 1);
      if (grants.empty()) return 0;
      submit_or_throw(*queue, grants.front(), db.worker());
      return 1;
    };
  });
  row r = make_row("store", "agentq::store claim+submit", clients);
  r.versus = "floor";
  return finish_row(r, load, db.count_in_state("awaiting_review"));
}

row run_batch_row(const bench_template& tpl, const options& opts, int batch) {
  bench_database db(tpl);
  db.load_queued(opts.tasks);
  db.vacuum_analyze();
  auto load = run_clients(1, opts.duration_s, [&](int) -> cycle_fn {
    auto queue = std::make_shared<store>(db.url());
    return [queue, &db, &opts, batch] {
      auto grants = queue->claim(db.worker(), {}, opts.lease_s, batch);
      for (const auto& grant : grants) submit_or_throw(*queue, grant, db.worker());
      return static_cast<int>(grants.size());
    };
  });
  row r = make_row("batch", "store claim limit " + std::to_string(batch) + " + submits", 1);
  r.versus = "floor, 1 client";
  r.note = "latency: 1 claim of " + std::to_string(batch) + " + " + std::to_string(batch) +
           " submits";
  return finish_row(r, load, db.count_in_state("awaiting_review"));
}

row run_index_row(const bench_template& tpl, const options& opts, int finished) {
  bench_database db(tpl);
  if (finished > 0) db.load_finished(finished);
  db.load_queued(opts.tasks);
  db.vacuum_analyze();
  // Both variants measure a settled database: the million-row load leaves
  // about 300 MB of dirty pages that would otherwise be written (and fsynced
  // by the kernel) during the row, beside the claims' own commits.
  auto unsettled = db.checkpoint();
  auto load = run_clients(1, opts.duration_s, [&](int) -> cycle_fn {
    auto queue = std::make_shared<store>(db.url());
    return [queue, &db, &opts] {
      return static_cast<int>(queue->claim(db.worker(), {}, opts.lease_s, 1).size());
    };
  });
  row r = make_row("index", "store claim, " + std::to_string(finished) + " done in table", 1);
  r.versus = "index, 0 done";
  r.note = "claim only; plan: " + claim_plan_scans(db.url(), db.worker(), opts.lease_s);
  if (!unsettled.empty()) r.note += "; " + unsettled;
  return finish_row(r, load, db.count_in_state("working"));
}

}  // namespace agentq::bench
