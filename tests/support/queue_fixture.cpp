#include "support/queue_fixture.hpp"

#include <cmath>
#include <cstdio>
#include <ctime>
#include <stdexcept>

#include <pqxx/pqxx>

namespace agentq::testing {

std::string at(double seconds) {
  std::time_t base = 1893456000;  // 2030-01-01T00:00:00Z
  double whole = std::floor(seconds);
  std::time_t t = base + static_cast<std::time_t>(whole);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(std::lround((seconds - whole) * 1e6)));
  return buffer;
}

agent_identity queue_fixture::make_agent(const std::string& name, agent_role role) {
  auto made = queue.add_agent(new_agent{name, role});
  if (!made) throw std::runtime_error("add_agent: " + made.error().message);
  auto identity = queue.authenticate((*made)["token"].get<std::string>());
  if (!identity) throw std::runtime_error("authenticate failed for " + name);
  return *identity;
}

queue_fixture::queue_fixture() {
  queue.set_clock(at(0));
  if (!queue.add_repo(new_repo{"demo", "/tmp/agentq-demo.git", "main"}))
    throw std::runtime_error("add_repo failed");
  worker1 = make_agent("worker-1", agent_role::worker);
  worker2 = make_agent("worker-2", agent_role::worker);
  reviewer1 = make_agent("reviewer-1", agent_role::reviewer);
  reviewer2 = make_agent("reviewer-2", agent_role::reviewer);
}

std::int64_t queue_fixture::add(const nlohmann::json& fields) {
  nlohmann::json body = {{"title", "a task"}, {"body", "do the thing"}, {"repo", "demo"}};
  if (fields.is_object()) body.update(fields);
  auto parsed = parse_new_task(body);
  if (!parsed) throw std::runtime_error("parse_new_task: " + parsed.error().message);
  auto added = queue.add_task(*parsed, "admin");
  if (!added) throw std::runtime_error("add_task: " + added.error().message);
  return added->id;
}

void queue_fixture::add_many(int n, const std::optional<std::string>& now) {
  pqxx::work tx(sql);
  tx.exec_params(
      "with clock as (select coalesce($2::timestamptz, now()) as now), "
      "added as (insert into tasks (title, body, repo_id, created_at, updated_at, run_after) "
      "  select 'task ' || g, '', (select id from repos where name = 'demo'), clock.now, "
      "         clock.now, clock.now from generate_series(1, $1) g, clock returning id) "
      "insert into events (task_id, at, kind, actor, to_state) "
      "select id, clock.now, 'added', 'test', 'queued' from added, clock",
      n, now);
  tx.commit();
}

claim_grant queue_fixture::claim_one(const agent_identity& agent, int lease_s) {
  auto grants = queue.claim(agent, {}, lease_s);
  if (grants.size() != 1)
    throw std::runtime_error("expected one claim for " + agent.name + ", got " +
                             std::to_string(grants.size()));
  return grants.front();
}

nlohmann::json queue_fixture::snapshot(std::int64_t task_id) {
  pqxx::read_transaction tx(sql);
  auto row = tx.exec_params1(
      "select jsonb_build_object("
      " 'task', (select to_jsonb(t) from tasks t where t.id = $1),"
      " 'claims', (select jsonb_agg(to_jsonb(c) order by c.token) from claims c where c.task_id = $1),"
      " 'submissions', (select jsonb_agg(to_jsonb(s) order by s.id) from submissions s where s.task_id = $1),"
      " 'reviews', (select jsonb_agg(to_jsonb(r) order by r.id) from reviews r where r.task_id = $1),"
      " 'merges', (select jsonb_agg(to_jsonb(m) order by m.id) from merges m where m.task_id = $1),"
      " 'feedback', (select jsonb_agg(to_jsonb(f) order by f.id) from feedback f where f.task_id = $1),"
      " 'disagreements', (select count(*) from disagreements d where d.task_id = $1),"
      " 'events', (select jsonb_agg(to_jsonb(e) order by e.id) from events e where e.task_id = $1))::text",
      task_id);
  return nlohmann::json::parse(row[0].c_str());
}

std::string queue_fixture::state(std::int64_t task_id) {
  auto task = queue.get_task(task_id);
  if (!task) throw std::runtime_error("no task " + std::to_string(task_id));
  return (*task)["task"]["state"].get<std::string>();
}

claim_grant queue_fixture::to_review(std::int64_t task_id, const agent_identity& worker,
                                     const agent_identity& reviewer) {
  auto work = claim_one(worker);
  if (work.task_id != task_id) throw std::runtime_error("claimed another task");
  auto submitted = queue.submit(
      task_id,
      submit_request{work.token, claim_branch(task_id, work.token), std::string(40, 'a'), "did it"},
      worker);
  if (!submitted) throw std::runtime_error("submit: " + submitted.error().message);
  return claim_one(reviewer);
}

}  // namespace agentq::testing
