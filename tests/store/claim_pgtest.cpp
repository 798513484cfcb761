// Claims: one holder per task, tokens that only grow, order and filters.
#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <catch2/catch.hpp>
#include <pqxx/pqxx>

#include <agentq/sql.hpp>

#include "support/queue_fixture.hpp"

using namespace agentq;
using namespace agentq::testing;
using nlohmann::json;

TEST_CASE("32 threads claiming 1000 tasks: each claimed once - tokens unique and increasing",
          "[claim][concurrency]") {
  queue_fixture f;
  f.queue.set_clock(std::nullopt);  // real time: 32 connections, no pinned clock
  constexpr int task_count = 1000;
  constexpr int thread_count = 32;
  f.add_many(task_count, std::nullopt);
  std::vector<agent_identity> workers;
  for (int i = 0; i < thread_count; ++i)
    workers.push_back(f.make_agent("w" + std::to_string(i), agent_role::worker));

  std::mutex mutex;
  std::map<std::int64_t, std::vector<std::int64_t>> tokens_by_task;
  std::vector<std::vector<std::int64_t>> tokens_by_thread(thread_count);
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < thread_count; ++i) {
    threads.emplace_back([&, i] {
      try {
        store own(f.db.url());
        for (;;) {
          auto grants = own.claim(workers[i], {}, 300);
          if (grants.empty()) break;
          for (const auto& grant : grants) {
            tokens_by_thread[i].push_back(grant.token);
            std::lock_guard lock(mutex);
            tokens_by_task[grant.task_id].push_back(grant.token);
          }
        }
      } catch (const std::exception& e) {
        ++errors;
        UNSCOPED_INFO(e.what());
      }
    });
  }
  for (auto& t : threads) t.join();

  REQUIRE(errors == 0);
  REQUIRE(tokens_by_task.size() == task_count);
  std::set<std::int64_t> all_tokens;
  for (const auto& [task, tokens] : tokens_by_task) {
    REQUIRE(tokens.size() == 1);  // claimed exactly once
    all_tokens.insert(tokens.front());
  }
  CHECK(all_tokens.size() == task_count);  // unique
  for (const auto& tokens : tokens_by_thread)
    CHECK(std::is_sorted(tokens.begin(), tokens.end()));  // increasing for each claimer

  // Claims of different tasks run at once and may commit out of draw order
  // (docs/design.md §2): only uniqueness and each claimer's order are checked.
  pqxx::read_transaction tx(f.sql);
  CHECK(tx.exec("select count(*) from tasks where state = 'working'")[0][0].as<int>() ==
        task_count);
  CHECK(tx.exec("select count(*) from events where kind = 'claimed'")[0][0].as<int>() ==
        task_count);
  tx.commit();
  CHECK(f.queue.check_invariants().empty());
}

// What fencing needs (docs/api.md §4.2): each task's tokens increase, in the
// order its claims happened, while claims of other tasks draw from the same
// sequence at the same time. One hot task is taken over again and again (its
// 1 s lease has always run out on the claimers' ever later clocks) by 8
// threads that also claim 400 other tasks.
TEST_CASE("a task's tokens increase across takeovers while other tasks are claimed",
          "[claim][concurrency]") {
  queue_fixture f;
  auto hot = f.add({{"priority", 10}, {"max_attempts", 100}});
  f.add_many(400, at(0));
  constexpr int thread_count = 8;
  std::vector<agent_identity> workers;
  for (int i = 0; i < thread_count; ++i)
    workers.push_back(f.make_agent("t" + std::to_string(i), agent_role::worker));

  std::atomic<int> clock_step{1};
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < thread_count; ++i) {
    threads.emplace_back([&, i] {
      try {
        store own(f.db.url());
        for (int round = 0; round < 60; ++round) {
          own.set_clock(at(10.0 * clock_step++));
          own.claim(workers[static_cast<std::size_t>(i)], {}, 1);
        }
      } catch (const std::exception& e) {
        ++errors;
        UNSCOPED_INFO(e.what());
      }
    });
  }
  for (auto& t : threads) t.join();
  REQUIRE(errors == 0);

  pqxx::read_transaction tx(f.sql);
  // Events of one task are written under its row lock, so their ids follow
  // the order its claims happened.
  std::vector<std::int64_t> hot_tokens;
  for (const auto& row : tx.exec_params("select token from events where task_id = $1 and "
                                        "kind = 'claimed' order by id", hot))
    hot_tokens.push_back(row[0].as<std::int64_t>());
  REQUIRE(hot_tokens.size() >= 2);  // the hot task was taken over
  CHECK(std::adjacent_find(hot_tokens.begin(), hot_tokens.end(), std::greater_equal<>()) ==
        hot_tokens.end());  // strictly increasing
  CHECK(tx.exec_params("select claim_token from tasks where id = $1", hot)[0][0]
            .as<std::int64_t>() == hot_tokens.back());
  CHECK(tx.exec("select count(*) <> count(distinct token) from claims")[0][0].as<bool>() == false);
  CHECK(tx.exec("select count(*) from claims where task_id <> " + std::to_string(hot))[0][0]
            .as<int>() > 0);  // other tasks were claimed meanwhile
  tx.commit();
  for (const auto& broken : f.queue.check_invariants()) FAIL_CHECK(broken);
}

TEST_CASE("a batch claim takes several tasks - each with its own increasing token", "[claim]") {
  queue_fixture f;
  for (int i = 0; i < 5; ++i) f.add();
  auto grants = f.queue.claim(f.worker1, {}, 60, 3);
  REQUIRE(grants.size() == 3);
  CHECK(grants[0].token < grants[1].token);
  CHECK(grants[1].token < grants[2].token);
  std::set<std::int64_t> ids;
  for (const auto& g : grants) ids.insert(g.task_id);
  CHECK(ids.size() == 3);
  CHECK(f.queue.claim(f.worker2, {}, 60, 10).size() == 2);
  CHECK(f.queue.claim(f.worker2, {}, 60, 10).empty());
}

TEST_CASE("the claim answer has the contract's fields", "[claim]") {
  queue_fixture f;
  auto id = f.add({{"title", "write docs"}, {"labels", {"docs"}}});
  auto grant = f.claim_one(f.worker1, 120);
  const json& a = grant.answer;
  CHECK(a["task"]["id"] == id);
  CHECK(a["task"]["title"] == "write docs");
  CHECK(a["task"]["state"] == "working");
  CHECK(a["task"]["attempt"] == 1);
  CHECK(a["task"]["labels"] == json::array({"docs"}));
  for (const char* key : {"id", "title", "body", "repo", "queue", "state", "priority", "attempt",
                          "review_round", "max_attempts", "max_review_rounds", "depends_on",
                          "labels", "run_after", "created_at", "updated_at"})
    CHECK(a["task"].contains(key));
  CHECK(a["claim"]["token"] == grant.token);
  CHECK(a["claim"]["agent"] == "worker-1");
  CHECK(a["claim"]["role"] == "worker");
  CHECK(a["claim"]["lease_s"] == 120);
  CHECK(a["claim"]["lease_expires_at"] == at(120));
  CHECK(a["repo"] == json({{"name", "demo"},
                           {"url", "/tmp/agentq-demo.git"},
                           {"base_branch", "main"},
                           {"created_at", a["repo"]["created_at"]}}));
  CHECK(a["feedback"] == json::array());
}

TEST_CASE("claims take the highest priority first - then the oldest", "[claim]") {
  queue_fixture f;
  auto low = f.add({{"priority", -1}});
  auto first_normal = f.add();
  auto urgent = f.add({{"priority", 10}});
  auto second_normal = f.add();
  std::vector<std::int64_t> order;
  for (int i = 0; i < 4; ++i) order.push_back(f.claim_one(f.worker1).task_id);
  CHECK(order == std::vector<std::int64_t>{urgent, first_normal, second_normal, low});
}

TEST_CASE("claims honour queues and run_after and dependencies", "[claim]") {
  queue_fixture f;
  auto backend = f.add({{"queue", "backend"}});
  auto later = f.add({{"run_after", at(100)}});
  auto base = f.add({{"queue", "x"}});
  auto dependent = f.add({{"depends_on", {base}}});

  // Only the named queue.
  auto grants = f.queue.claim(f.worker1, {"backend"}, 3600);
  REQUIRE(grants.size() == 1);
  CHECK(grants[0].task_id == backend);
  // run_after in the future, dependency not done: only `base` is claimable.
  grants = f.queue.claim(f.worker1, {}, 3600, 10);
  REQUIRE(grants.size() == 1);
  CHECK(grants[0].task_id == base);
  f.queue.set_clock(at(100));
  grants = f.queue.claim(f.worker1, {}, 600, 10);
  REQUIRE(grants.size() == 1);
  CHECK(grants[0].task_id == later);
  CHECK(f.state(dependent) == "queued");
}

TEST_CASE("a claim plan uses the partial indexes - not a scan of finished tasks", "[claim]") {
  queue_fixture f;
  {
    pqxx::work tx(f.sql);
    tx.exec(
        "insert into tasks (title, body, repo_id, state, finished_at) "
        "select 'old', '', (select id from repos where name = 'demo'), 'done', now() "
        "from generate_series(1, 100000)");
    tx.exec("analyze tasks");
    tx.commit();
  }
  f.add();
  pqxx::work tx(f.sql);
  // The real claim statement, planned as the store runs it.
  tx.exec("prepare claim_plan as " + std::string(sql::tasks_claim_worker));
  std::string plan;
  for (const auto& row : tx.exec("explain execute claim_plan(" + std::to_string(f.worker1.id) +
                                 ", 'worker-1', null, 1, 60, null, null)"))
    plan += std::string(row[0].c_str()) + "\n";
  INFO(plan);
  CHECK(plan.find("Seq Scan") == std::string::npos);
  CHECK(plan.find("tasks_claim_order_worker") != std::string::npos);
}

TEST_CASE("a claim's search for expired leases ends at the first live lease - not a read of every held task",
          "[claim]") {
  queue_fixture f;
  f.add_many(50, std::nullopt);
  auto held = f.queue.claim(f.worker1, {}, 3600, 50);  // 50 live leases
  REQUIRE(held.size() == 50);
  f.add();
  pqxx::work tx(f.sql);
  // As store::claim runs a claim over every queue: its generic plan.
  tx.exec("set local plan_cache_mode = force_generic_plan");
  tx.exec("prepare expired_plan as " + std::string(sql::tasks_claim_worker));
  std::string plan;
  for (const auto& row : tx.exec("explain execute expired_plan(" + std::to_string(f.worker1.id) +
                                 ", 'worker-1', null, 1, 60, null, 60)"))
    plan += std::string(row[0].c_str()) + "\n";
  INFO(plan);
  // The lease bound is part of the index condition, so the scan stops at the
  // first lease that has not run out instead of filtering every held row.
  CHECK(plan.find("Index Cond: ((state = 'working'::task_state) AND (lease_expires_at <=") !=
        std::string::npos);
}
