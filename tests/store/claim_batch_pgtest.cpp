// Batched claims (store::claim_batch, issue 13): one statement for many
// parked callers gives each what one claim of its own would have given.
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <catch2/catch.hpp>
#include <pqxx/pqxx>

#include "support/queue_fixture.hpp"

using namespace agentq;
using namespace agentq::testing;
using nlohmann::json;

namespace {

std::vector<batch_claimant> claimants_of(const std::vector<agent_identity>& agents,
                                         int lease_s = 60) {
  std::vector<batch_claimant> out;
  for (const auto& a : agents) out.push_back({a, lease_s});
  return out;
}

int count(pqxx::connection& sql, const std::string& query) {
  pqxx::nontransaction tx(sql);
  return tx.exec1(query)[0].as<int>();
}

}  // namespace

TEST_CASE("a batched claim gives each worker its own task - token - claims row and events",
          "[claim][batch]") {
  queue_fixture f;
  auto low = f.add({{"title", "low"}, {"priority", 0}});
  auto high = f.add({{"title", "high"}, {"priority", 5}});
  auto mid = f.add({{"title", "mid"}, {"priority", 2}});
  auto w3 = f.make_agent("worker-3", agent_role::worker);

  std::vector<batch_claimant> claimants = {{f.worker1, 60}, {f.worker2, 120}, {w3, 300}};
  auto batch = f.queue.claim_batch(agent_role::worker, {}, claimants, 10);
  REQUIRE(batch.grants.size() == 3);
  CHECK_FALSE(batch.filter_empty);
  // Claim order: the first caller gets the best task, as if it had claimed first.
  const std::vector<std::int64_t> expected = {high, mid, low};
  std::set<std::int64_t> tokens;
  for (std::size_t i = 0; i < claimants.size(); ++i) {
    REQUIRE(batch.grants[i]);
    const auto& grant = *batch.grants[i];
    CHECK(grant.task_id == expected[i]);
    tokens.insert(grant.token);
    const auto& claim = grant.answer["claim"];
    CHECK(claim["agent"] == claimants[i].agent.name);
    CHECK(claim["role"] == "worker");
    CHECK(claim["lease_s"] == claimants[i].lease_s);
    CHECK(claim["first_lease_s"] == 10);
    CHECK(grant.answer["task"]["id"] == expected[i]);
    CHECK(grant.answer["task"]["state"] == "working");
    CHECK(grant.answer["repo"]["name"] == "demo");
    CHECK(grant.answer["feedback"].is_array());

    auto snap = f.snapshot(expected[i]);
    REQUIRE(snap["claims"].size() == 1);
    CHECK(snap["claims"][0]["agent_id"] == claimants[i].agent.id);
    CHECK(snap["claims"][0]["token"] == grant.token);
    CHECK(snap["claims"][0]["lease_s"] == claimants[i].lease_s);
    CHECK(snap["task"]["claim_agent_id"] == claimants[i].agent.id);
    const auto& claimed = snap["events"].back();
    CHECK(claimed["kind"] == "claimed");
    CHECK(claimed["actor"] == claimants[i].agent.name);
    CHECK(claimed["token"] == grant.token);
  }
  CHECK(tokens.size() == 3);

  // Nothing left: a batch that came back short says the filter is empty.
  auto empty = f.queue.claim_batch(agent_role::worker, {}, claimants_of({f.worker1}));
  CHECK_FALSE(empty.grants[0]);
  CHECK(empty.filter_empty);
  CHECK(f.queue.check_invariants().empty());
}

TEST_CASE("a batched claim with more callers than tasks serves the first in line",
          "[claim][batch]") {
  queue_fixture f;
  auto only = f.add();
  auto batch = f.queue.claim_batch(agent_role::worker, {}, claimants_of({f.worker2, f.worker1}));
  REQUIRE(batch.grants[0]);
  CHECK(batch.grants[0]->task_id == only);
  CHECK_FALSE(batch.grants[1]);
  CHECK(batch.filter_empty);
}

TEST_CASE("batched claims keep to their queue filter", "[claim][batch]") {
  queue_fixture f;
  std::set<std::int64_t> in_a, in_b;
  for (int i = 0; i < 3; ++i) in_a.insert(f.add({{"queue", "a"}}));
  for (int i = 0; i < 3; ++i) in_b.insert(f.add({{"queue", "b"}}));
  std::vector<agent_identity> workers;
  for (int i = 0; i < 5; ++i) workers.push_back(f.make_agent("w" + std::to_string(i), agent_role::worker));

  auto a = f.queue.claim_batch(agent_role::worker, {"a"}, claimants_of(workers));
  int got_a = 0;
  for (const auto& g : a.grants)
    if (g) {
      CHECK(in_a.count(g->task_id) == 1);
      ++got_a;
    }
  CHECK(got_a == 3);
  CHECK(a.filter_empty);
  auto b = f.queue.claim_batch(agent_role::worker, {"b", "c"}, claimants_of(workers));
  int got_b = 0;
  for (const auto& g : b.grants)
    if (g) {
      CHECK(in_b.count(g->task_id) == 1);
      ++got_b;
    }
  CHECK(got_b == 3);
}

TEST_CASE("a batched claim takes over expired leases and closes their claims", "[claim][batch]") {
  queue_fixture f;
  auto id = f.add();
  auto first = f.claim_one(f.worker1, 60);
  f.queue.set_clock(at(120));  // the lease ran out
  auto batch = f.queue.claim_batch(agent_role::worker, {}, claimants_of({f.worker2}));
  REQUIRE(batch.grants[0]);
  CHECK(batch.grants[0]->task_id == id);
  CHECK(batch.grants[0]->token > first.token);
  auto snap = f.snapshot(id);
  REQUIRE(snap["claims"].size() == 2);
  CHECK(snap["claims"][0]["outcome"] == "expired");
  CHECK(snap["claims"][1]["ended_at"].is_null());
  CHECK(f.queue.check_invariants().empty());
}

TEST_CASE("a batched reviewers' claim never gives a reviewer its own work", "[claim][batch][review]") {
  queue_fixture f;
  // An agent that worked on a task, asking as a reviewer (docs/api.md §4.6).
  const agent_identity worker_as_reviewer{f.worker1.id, f.worker1.name, agent_role::reviewer};
  auto own = f.add({{"title", "own"}, {"priority", 9}});
  auto other = f.add({{"title", "other"}, {"priority", 1}});
  for (auto id : {own, other}) {
    auto work = f.claim_one(id == own ? f.worker1 : f.worker2);
    REQUIRE(work.task_id == id);
    REQUIRE(f.queue.submit(id, submit_request{work.token, claim_branch(id, work.token),
                                              std::string(40, 'a'), "did it"},
                           id == own ? f.worker1 : f.worker2));
  }

  SECTION("alone, it gets the other task, not the better one it worked on") {
    auto batch = f.queue.claim_batch(agent_role::reviewer, {}, claimants_of({worker_as_reviewer}));
    REQUIRE(batch.grants[0]);
    CHECK(batch.grants[0]->task_id == other);
    CHECK(batch.grants[0]->answer["submission"]["worker"] == f.worker2.name);
  }
  SECTION("first in line, it is matched with what it may review and the next takes its own") {
    auto batch = f.queue.claim_batch(agent_role::reviewer, {},
                                     claimants_of({worker_as_reviewer, f.reviewer1}));
    REQUIRE(batch.grants[0]);
    REQUIRE(batch.grants[1]);
    CHECK(batch.grants[0]->task_id == other);
    CHECK(batch.grants[1]->task_id == own);
    CHECK(batch.grants[1]->answer["claim"]["agent"] == f.reviewer1.name);
  }
  SECTION("with only its own work waiting it gets nothing and the filter is not empty") {
    CHECK(f.claim_one(f.reviewer1).task_id == own);
    CHECK(f.claim_one(f.reviewer2).task_id == other);
    auto id = f.add({{"title", "own too"}});
    auto work = f.claim_one(f.worker1);
    REQUIRE(work.task_id == id);
    REQUIRE(f.queue.submit(id, submit_request{work.token, claim_branch(id, work.token),
                                              std::string(40, 'b'), "did it"},
                           f.worker1));
    auto batch = f.queue.claim_batch(agent_role::reviewer, {}, claimants_of({worker_as_reviewer}));
    CHECK_FALSE(batch.grants[0]);
    CHECK_FALSE(batch.filter_empty);  // another reviewer could take it
    auto nobody = f.queue.claim_batch(agent_role::reviewer, {"elsewhere"},
                                      claimants_of({worker_as_reviewer}));
    CHECK(nobody.filter_empty);
  }
  CHECK(f.queue.check_invariants().empty());
}

TEST_CASE("concurrent batched claims: every task to exactly one caller",
          "[claim][batch][concurrency]") {
  queue_fixture f;
  f.queue.set_clock(std::nullopt);
  constexpr int tasks = 120;
  f.add_many(tasks, std::nullopt);
  std::vector<agent_identity> workers;
  for (int i = 0; i < 24; ++i) workers.push_back(f.make_agent("bw" + std::to_string(i), agent_role::worker));

  std::mutex mutex;
  std::map<std::int64_t, int> claims_per_task;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      store own(f.db.url());
      std::vector<agent_identity> mine(workers.begin() + t * 6, workers.begin() + t * 6 + 6);
      for (;;) {
        auto batch = own.claim_batch(agent_role::worker, {}, claimants_of(mine));
        int got = 0;
        for (const auto& g : batch.grants)
          if (g) {
            ++got;
            std::lock_guard lock(mutex);
            ++claims_per_task[g->task_id];
          }
        if (got == 0) return;
      }
    });
  for (auto& t : threads) t.join();
  CHECK(claims_per_task.size() == static_cast<std::size_t>(tasks));
  for (const auto& [task, n] : claims_per_task) CHECK(n == 1);
  CHECK(count(f.sql, "select count(*) from claims") == tasks);
  CHECK(count(f.sql, "select count(distinct token) from claims") == tasks);
  for (const auto& broken : f.queue.check_invariants()) FAIL_CHECK(broken);
}
