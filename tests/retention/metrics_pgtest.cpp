// /metrics counts what this server did (claims, leases found expired,
// retention deletions) as counters of its own, and never scans the event
// history (issue 13): its numbers stay right when the history is gone.
#include <thread>

#include <catch2/catch.hpp>
#include <pqxx/pqxx>

#include "handler_fixture.hpp"
#include "process.hpp"
#include "services/reaper.hpp"
#include "support/queue_fixture.hpp"

using namespace agentq;
using namespace agentq::testing;

namespace {

bool has_line(const std::string& text, const std::string& line) {
  return ("\n" + text).find("\n" + line + "\n") != std::string::npos;
}

}  // namespace

TEST_CASE("metrics count claims and expired leases without reading the event history",
          "[retention][metrics]") {
  handler_fixture f;
  auto first = f.add_task();
  f.add_task();
  REQUIRE(f.claim(f.worker1)["task"]["id"] == first);
  // The first lease (10 s) runs out; worker-2's claim takes the task over.
  f.queue.set_clock(at(11));
  REQUIRE(f.claim(f.worker2)["task"]["id"] == first);
  f.claim(f.worker1);  // the other task

  auto text = f.call("GET", "/metrics", "").reply.body;
  CHECK(has_line(text, "agentq_claims_total 3"));
  CHECK(has_line(text, "agentq_lease_expirations_total 1"));
  CHECK(has_line(text, "agentq_tasks{state=\"working\"} 2"));

  // The event history goes (as retention would take it): a /metrics that
  // counted from it would now say 0 claims and 0 expirations.
  {
    pqxx::work tx(f.sql);
    tx.exec("select set_config('agentq.retention', 'on', true)");
    tx.exec0("delete from events");
    tx.commit();
  }
  text = f.call("GET", "/metrics", "").reply.body;
  CHECK(has_line(text, "agentq_claims_total 3"));
  CHECK(has_line(text, "agentq_lease_expirations_total 1"));
  CHECK(has_line(text, "agentq_tasks{state=\"working\"} 2"));
  CHECK(has_line(text, "agentq_retention_deleted_tasks_total 0"));
  // Every state is there, zero when none.
  CHECK(has_line(text, "agentq_tasks{state=\"needs_human\"} 0"));
}

TEST_CASE("the reaper reports each lease it returns", "[retention][metrics]") {
  queue_fixture f;
  f.queue.set_clock(std::nullopt);
  f.add();
  f.add();
  f.claim_one(f.worker1);
  f.claim_one(f.worker2);
  {
    pqxx::work tx(f.sql);
    tx.exec0("update tasks set lease_expires_at = now() - interval '1 second' "
             "where state = 'working'");
    tx.commit();
  }
  int reported = 0;
  reaper_config config;
  config.on_returned = [&](int tasks) { reported += tasks; };
  reaper reap(f.db.url(), config);
  CHECK(reap.run_once() == 2);
  CHECK(reported == 2);
}

TEST_CASE("agentq serve deletes old finished tasks and counts them in metrics",
          "[retention][metrics][server]") {
  test_database db;
  {
    pqxx::connection sql(db.url());
    pqxx::work tx(sql);
    tx.exec0("insert into repos (name, url) values ('demo', '/tmp/agentq-demo.git')");
    // Two cancelled tasks with their history: one 40 days old, one 1 day old.
    tx.exec0(
        "with added as (insert into tasks (title, body, repo_id, state, finished_at) "
        "  select 'old', '', 1, 'cancelled', now() - make_interval(days => d) "
        "  from unnest(array[40, 1]) d returning id, finished_at) "
        "insert into events (task_id, at, kind, actor, from_state, to_state) "
        "select id, finished_at, 'added', 'test', null::task_state, 'queued'::task_state from added "
        "union all select id, finished_at, 'cancelled', 'test', 'queued', 'cancelled' "
        "from added order by 1, 2");
    tx.commit();
  }
  server_process server(db.url(), {"--retain-finished", "30d", "--retain-disagreements",
                                   "365d"});
  // Its first run is at start; wait for the counter (bounded).
  for (int i = 0; i < 500 && metric(server.url(), "agentq_retention_deleted_tasks_total") < 1;
       ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  CHECK(metric(server.url(), "agentq_retention_deleted_tasks_total") == 1);
  CHECK(metric(server.url(), "agentq_tasks{state=\"cancelled\"}") == 1);
  CHECK(server.log().find("retain_finished=30d retain_disagreements=365d") != std::string::npos);
}

TEST_CASE("agentq serve refuses bad retention ages naming the option", "[retention][cli]") {
  struct refusal_case {
    std::vector<std::string> args;
    std::map<std::string, std::string> env;
    std::string says;
  };
  const std::vector<refusal_case> cases = {
      {{"--retain-finished", "30"}, {}, "--retain-finished must be a number and a unit"},
      {{"--retain-finished", "thirty days"}, {}, "--retain-finished"},
      {{"--retain-finished", "30y"}, {}, "has no unit"},
      {{"--retain-finished", "-1d"}, {}, "--retain-finished"},
      {{"--retain-finished", "0d"}, {}, "out of range"},
      {{"--retain-finished", "36501d"}, {}, "out of range"},
      {{"--retain-finished", "99999999999999999d"}, {}, "--retain-finished"},
      {{"--retain-finished", ""}, {}, "--retain-finished"},
      {{}, {{"AGENTQ_RETAIN_FINISHED", "a month"}}, "--retain-finished"},
      {{"--retain-disagreements", "off"}, {}, "forever: keep tasks with disagreement entries"},
      {{"--retain-disagreements", "0"}, {}, "--retain-disagreements"},
      {{}, {{"AGENTQ_RETAIN_DISAGREEMENTS", "1 year"}}, "--retain-disagreements"},
  };
  for (const auto& c : cases) {
    std::vector<std::string> args{"serve", "--database-url", unreachable_database_url()};
    args.insert(args.end(), c.args.begin(), c.args.end());
    auto r = run_agentq(args, c.env);
    INFO(nlohmann::json(c.args).dump() << " " << nlohmann::json(c.env).dump() << ": " << r.err);
    CHECK(r.exit_code == 2);
    CHECK(r.err.find(c.says) != std::string::npos);
  }
  auto help = run_agentq({"serve", "--help"});
  CHECK(help.out.find("--retain-finished AGE") != std::string::npos);
  CHECK(help.out.find("AGENTQ_RETAIN_DISAGREEMENTS") != std::string::npos);
}
