// Retention (issue 13; docs/design.md "Retention"): old finished tasks go
// with every row that belongs to them; young, unfinished and (by default)
// disagreement-log tasks stay; dependencies stay met; and batches running
// beside claimers and submitters never fail them nor delete a live task.
#include <atomic>
#include <map>
#include <set>
#include <thread>

#include <catch2/catch.hpp>
#include <pqxx/pqxx>

#include "services/retention.hpp"
#include "support/queue_fixture.hpp"

using namespace agentq;
using namespace agentq::testing;
using nlohmann::json;

namespace {

constexpr std::int64_t day_s = 86400;

// Every table that holds rows of a task, and how many rows of these tasks it
// holds (disagreement resolutions through their disagreements).
std::map<std::string, std::int64_t> rows_of(pqxx::connection& sql,
                                            const std::vector<std::int64_t>& ids) {
  pqxx::read_transaction tx(sql);
  std::map<std::string, std::int64_t> counts;
  const std::string list = to_pg_array(ids);
  for (const char* table : {"tasks", "claims", "events", "submissions", "reviews", "feedback",
                            "merges", "disagreements"}) {
    const std::string column = std::string(table) == "tasks" ? "id" : "task_id";
    counts[table] = tx.exec_params1("select count(*) from " + std::string(table) + " where " +
                                        column + " = any($1::bigint[])",
                                    list)[0]
                        .as<std::int64_t>();
  }
  counts["disagreement_resolutions"] =
      tx.exec_params1("select count(*) from disagreement_resolutions r join disagreements d "
                      "on d.id = r.disagreement_id where d.task_id = any($1::bigint[])",
                      list)[0]
          .as<std::int64_t>();
  return counts;
}

std::int64_t total_rows(const std::map<std::string, std::int64_t>& counts) {
  std::int64_t total = 0;
  for (const auto& [table, n] : counts) total += n;
  return total;
}

// Queued to done through the store: claimed, submitted, approved, merged.
void finish(queue_fixture& f, std::int64_t id) {
  auto review = f.to_review(id, f.worker1, f.reviewer1);
  auto merge = f.queue.approve(id, {review.token, verdict::approve, "lgtm"}, f.reviewer1);
  REQUIRE(merge);
  REQUIRE(f.queue.finish_merge_merged(*merge, std::string(40, 'c'), "merger"));
}

// Rejected once (a disagreement entry, judged), then approved and merged.
void finish_after_a_rejection(queue_fixture& f, std::int64_t id) {
  auto review = f.to_review(id, f.worker1, f.reviewer1);
  auto rejected = f.queue.reject(id, {review.token, verdict::reject, "no tests"}, f.reviewer1);
  REQUIRE(rejected);
  REQUIRE(f.queue.resolve_disagreement(rejected->disagreement_id,
                                       {"reviewer_right", "tests were missing"}, "alice"));
  finish(f, id);
}

retention_policy policy(std::int64_t finished_age_s,
                        std::optional<std::int64_t> disagreement_age_s = std::nullopt) {
  retention_policy p;
  p.finished_age_s = finished_age_s;
  p.disagreement_age_s = disagreement_age_s;
  return p;
}

void check_history_consistent(queue_fixture& f) {
  auto problems = f.queue.check_invariants();
  for (const auto& p : problems) UNSCOPED_INFO(p);
  CHECK(problems.empty());
}

}  // namespace

TEST_CASE("retention deletes old finished tasks with every row and keeps the rest",
          "[retention]") {
  queue_fixture f;
  // Old and finished: done (with claims, submission, review, merge, feedback
  // from a person's requeue note), cancelled, failed.
  auto done = f.add();
  REQUIRE(f.queue.cancel(done, "admin", "not yet"));
  REQUIRE(f.queue.requeue(done, "admin", std::string("now, please")));
  finish(f, done);
  auto cancelled = f.add();
  REQUIRE(f.queue.cancel(cancelled, "admin", "not needed"));
  auto failed = f.add({{"max_attempts", 1}});
  auto grant = f.claim_one(f.worker2);
  REQUIRE(grant.task_id == failed);
  REQUIRE(f.queue.release(failed, {grant.token, "broke", true}, f.worker2, backoff_policy{}));
  REQUIRE(f.state(failed) == "failed");
  const std::vector<std::int64_t> old_ids{done, cancelled, failed};
  const auto old_rows = rows_of(f.sql, old_ids);
  CHECK(old_rows.at("merges") == 1);
  CHECK(old_rows.at("reviews") == 1);
  CHECK(old_rows.at("feedback") == 1);

  // Finished later (young at the time retention runs) and unfinished ones,
  // by priority so each claim takes the one meant.
  f.queue.set_clock(at(10 * day_s));
  auto young = f.add();
  finish(f, young);
  auto needs_human = f.add({{"max_review_rounds", 1}, {"priority", 3}});
  auto working = f.add({{"priority", 2}});
  auto in_review = f.add({{"priority", 1}});
  auto queued = f.add({{"priority", -1}});
  auto nh = f.to_review(needs_human, f.worker1, f.reviewer1);
  REQUIRE(f.queue.reject(needs_human, {nh.token, verdict::reject, "no"}, f.reviewer1));
  REQUIRE(f.state(needs_human) == "needs_human");
  REQUIRE(f.claim_one(f.worker2).task_id == working);
  auto r = f.claim_one(f.worker1);
  REQUIRE(r.task_id == in_review);
  REQUIRE(f.queue.submit(in_review,
                         {r.token, claim_branch(in_review, r.token), std::string(40, 'b'), "ok"},
                         f.worker1));
  REQUIRE(f.state(in_review) == "awaiting_review");
  REQUIRE(f.state(queued) == "queued");
  const std::vector<std::int64_t> kept_ids{young, queued, working, in_review, needs_human};
  std::map<std::int64_t, json> before;
  for (auto id : kept_ids) before[id] = f.snapshot(id);

  // 30 days after the old ones finished: not yet.
  f.queue.set_clock(at(30 * day_s - 1));
  CHECK(f.queue.delete_finished_tasks(policy(30 * day_s)).tasks == 0);
  CHECK(rows_of(f.sql, old_ids) == old_rows);

  // 30 days and a bit, in batches of two: every row of the three goes.
  f.queue.set_clock(at(30 * day_s + 1));
  auto p = policy(30 * day_s);
  p.batch = 2;
  auto first = f.queue.delete_finished_tasks(p);
  CHECK(first.tasks == 2);
  auto second = f.queue.delete_finished_tasks(p);
  CHECK(second.tasks == 1);
  CHECK(first.events + second.events == old_rows.at("events"));
  CHECK(f.queue.delete_finished_tasks(p).tasks == 0);
  CHECK(total_rows(rows_of(f.sql, old_ids)) == 0);
  for (auto id : old_ids) CHECK_FALSE(f.queue.get_task(id));

  // The rest is untouched, row for row, even far in the future for the
  // unfinished ones.
  for (auto id : kept_ids) CHECK(f.snapshot(id) == before[id]);
  f.queue.set_clock(at(1000 * day_s));
  CHECK(f.queue.delete_finished_tasks(policy(30 * day_s)).tasks == 1);  // young, now old
  CHECK_FALSE(f.queue.get_task(young));
  for (auto id : {queued, working, in_review, needs_human}) CHECK(f.snapshot(id) == before[id]);
  check_history_consistent(f);
}

TEST_CASE("disagreement-log tasks are kept by default and go with their entries when told",
          "[retention]") {
  queue_fixture f;
  auto judged = f.add();
  finish_after_a_rejection(f, judged);
  auto plain = f.add();
  finish(f, plain);
  const auto judged_rows = rows_of(f.sql, {judged});
  REQUIRE(judged_rows.at("disagreements") == 1);
  REQUIRE(judged_rows.at("disagreement_resolutions") == 1);

  f.queue.set_clock(at(400 * day_s));
  // Default: kept for ever, entries and all, however old.
  CHECK(f.queue.delete_finished_tasks(policy(30 * day_s)).tasks == 1);  // the plain one
  CHECK_FALSE(f.queue.get_task(plain));
  CHECK(rows_of(f.sql, {judged}) == judged_rows);
  CHECK(f.queue.list_disagreements("all", 100).size() == 1);

  // --retain-disagreements 500d: not yet at 400 days.
  CHECK(f.queue.delete_finished_tasks(policy(30 * day_s, 500 * day_s)).tasks == 0);
  CHECK(rows_of(f.sql, {judged}) == judged_rows);
  // At 501 days it goes, with its entry and the entry's judgement.
  f.queue.set_clock(at(501 * day_s));
  CHECK(f.queue.delete_finished_tasks(policy(30 * day_s, 500 * day_s)).tasks == 1);
  CHECK(total_rows(rows_of(f.sql, {judged})) == 0);
  CHECK(f.queue.list_disagreements("all", 100).empty());
  check_history_consistent(f);
}

TEST_CASE("a shorter retain-disagreements still keeps such a task as long as retain-finished",
          "[retention]") {
  queue_fixture f;
  auto judged = f.add();
  finish_after_a_rejection(f, judged);
  f.queue.set_clock(at(20 * day_s));
  CHECK(f.queue.delete_finished_tasks(policy(30 * day_s, 10 * day_s)).tasks == 0);
  f.queue.set_clock(at(31 * day_s));
  CHECK(f.queue.delete_finished_tasks(policy(30 * day_s, 10 * day_s)).tasks == 1);
}

TEST_CASE("a dependency deleted by retention still counts as met", "[retention]") {
  queue_fixture f;
  auto dependency = f.add();
  auto other = f.add();
  // Waits for both; the first is done and deleted before the second is.
  auto dependent = f.add({{"depends_on", {dependency, other}}});
  finish(f, dependency);
  f.queue.set_clock(at(31 * day_s));
  REQUIRE(f.queue.delete_finished_tasks(policy(30 * day_s)).tasks == 1);
  REQUIRE_FALSE(f.queue.get_task(dependency));
  // other is next in line; dependent still waits for it.
  auto grant = f.claim_one(f.worker2);
  CHECK(grant.task_id == other);
  CHECK(f.queue.claim(f.worker1, {}, 60).empty());
  REQUIRE(f.queue.submit(other, {grant.token, claim_branch(other, grant.token),
                                 std::string(40, 'd'), "done"},
                         f.worker2));
  auto review = f.claim_one(f.reviewer1);
  auto merge = f.queue.approve(other, {review.token, verdict::approve, ""}, f.reviewer1);
  REQUIRE(merge);
  REQUIRE(f.queue.finish_merge_merged(*merge, std::string(40, 'e'), "merger"));
  // Both dependencies met: one done, one deleted after it was done.
  CHECK(f.claim_one(f.worker1).task_id == dependent);

  // A task added later that names the deleted one is refused, saying why.
  auto parsed = parse_new_task(json{{"title", "t"}, {"body", ""}, {"repo", "demo"},
                                    {"depends_on", {dependency}}});
  REQUIRE(parsed);
  auto added = f.queue.add_task(*parsed, "admin");
  REQUIRE_FALSE(added);
  CHECK(added.error().code == error_code::invalid_request);
  CHECK(added.error().message.find("--retain-finished") != std::string::npos);
  check_history_consistent(f);
}

TEST_CASE("a failed or cancelled task is kept while a task depends on it", "[retention]") {
  queue_fixture f;
  auto cancelled = f.add();
  auto blocked = f.add({{"depends_on", {cancelled}}});
  REQUIRE(f.queue.cancel(cancelled, "admin", "dropped"));
  f.queue.set_clock(at(31 * day_s));
  // Deleting it would make `blocked` claimable (a missing dependency is met).
  CHECK(f.queue.delete_finished_tasks(policy(30 * day_s)).tasks == 0);
  CHECK(f.queue.get_task(cancelled));
  CHECK(f.queue.claim(f.worker1, {}, 60).empty());
  // Once the dependent is gone too (cancelled, old), both go, in two runs.
  REQUIRE(f.queue.cancel(blocked, "admin", "dropped too"));
  f.queue.set_clock(at(62 * day_s));
  CHECK(f.queue.delete_finished_tasks(policy(30 * day_s)).tasks == 1);
  CHECK(f.queue.delete_finished_tasks(policy(30 * day_s)).tasks == 1);
  CHECK_FALSE(f.queue.get_task(cancelled));
  CHECK_FALSE(f.queue.get_task(blocked));
  check_history_consistent(f);
}

TEST_CASE("the history stays append-only outside retention", "[retention]") {
  queue_fixture f;
  auto id = f.add();
  REQUIRE(f.queue.cancel(id, "admin", "x"));
  pqxx::work tx(f.sql);
  CHECK_THROWS_WITH(tx.exec_params("delete from events where task_id = $1", id),
                    Catch::Contains("append-only"));
}

TEST_CASE("the invariant checker reports a task whose history is gone", "[retention]") {
  queue_fixture f;
  auto id = f.add();
  {
    pqxx::work tx(f.sql);
    tx.exec("select set_config('agentq.retention', 'on', true)");
    tx.exec_params("delete from events where task_id = $1", id);
    tx.commit();
  }
  auto problems = f.queue.check_invariants();
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].find("has no history") != std::string::npos);
}

TEST_CASE("retention batches beside claimers and submitters and requeues fail none of them",
          "[retention][concurrency]") {
  queue_fixture f;
  f.queue.set_clock(std::nullopt);
  constexpr int old_tasks = 3000;
  constexpr int live_tasks = 400;
  {
    // Old cancelled tasks with their two events, finished 40 days ago.
    pqxx::work tx(f.sql);
    tx.exec_params(
        "with added as (insert into tasks (title, body, repo_id, state, finished_at, "
        "                 created_at, updated_at) "
        "  select 'old ' || g, '', (select id from repos where name = 'demo'), 'cancelled', "
        "         now() - interval '40 days', now() - interval '41 days', "
        "         now() - interval '40 days' from generate_series(1, $1) g returning id) "
        "insert into events (task_id, at, kind, actor, from_state, to_state) "
        "select id, now() - interval '41 days', 'added', 'test', null::task_state, 'queued'::task_state "
        "from added union all "
        "select id, now() - interval '40 days', 'cancelled', 'test', 'queued', 'cancelled' "
        "from added order by 1, 2",
        old_tasks);
    tx.commit();
  }
  f.add_many(live_tasks, std::nullopt);
  std::vector<std::int64_t> old_ids;
  {
    pqxx::read_transaction tx(f.sql);
    for (const auto& row : tx.exec("select id from tasks where state = 'cancelled' order by id"))
      old_ids.push_back(row[0].as<std::int64_t>());
  }
  REQUIRE(old_ids.size() == old_tasks);

  retention_config config;
  config.policy = policy(30 * day_s);
  config.policy.batch = 50;
  config.pause_between_batches = std::chrono::milliseconds(0);
  std::atomic<int> deleted{0};
  config.on_deleted = [&](int tasks) { deleted += tasks; };
  retention service(f.db.url(), config);

  std::atomic<bool> stop{false};
  std::atomic<int> failures{0}, claimed{0}, requeued{0};
  std::mutex seen_mutex;
  std::set<std::int64_t> claimed_ids, requeued_ids;
  std::vector<std::thread> threads;
  for (int i = 0; i < 6; ++i) {
    threads.emplace_back([&, i] {
      try {
        store db(f.db.url());
        auto agent = i % 2 ? f.worker1 : f.worker2;
        while (!stop) {
          auto grants = db.claim(agent, {}, 60);
          if (grants.empty()) break;
          const auto& g = grants.front();
          auto submitted = db.submit(
              g.task_id, {g.token, claim_branch(g.task_id, g.token), std::string(40, 'a'), "s"},
              agent);
          if (!submitted) {
            ++failures;
            UNSCOPED_INFO("submit refused: " << submitted.error().message);
          }
          ++claimed;
          std::lock_guard lock(seen_mutex);
          claimed_ids.insert(g.task_id);
        }
      } catch (const std::exception& e) {
        ++failures;
        UNSCOPED_INFO("claimer " << i << ": " << e.what());
      }
    });
  }
  // A person requeues old cancelled tasks while retention deletes them:
  // each requeue either wins (the task is live again and must stay) or
  // finds the task gone (not_found), never anything in between.
  threads.emplace_back([&] {
    try {
      store db(f.db.url());
      for (std::size_t i = 0; i < old_ids.size(); i += 7) {
        const auto id = old_ids[i];
        auto back = db.requeue(id, "admin", std::nullopt);
        if (back) {
          ++requeued;
          std::lock_guard lock(seen_mutex);
          requeued_ids.insert(id);
        } else if (back.error().code != error_code::not_found) {
          ++failures;
          UNSCOPED_INFO("requeue " << id << ": " << back.error().message);
        }
      }
    } catch (const std::exception& e) {
      ++failures;
      UNSCOPED_INFO("requeuer: " << e.what());
    }
  });
  // Retention runs batch after batch while they work, then once more after
  // (a batch may have given up on a row someone held).
  std::thread retainer([&] {
    try {
      while (!stop) service.run_once();
    } catch (const std::exception& e) {
      ++failures;
      UNSCOPED_INFO("retention: " << e.what());
    }
  });
  for (auto& t : threads) t.join();
  stop = true;
  retainer.join();
  while (service.run_once() > 0) {
  }
  CHECK(failures == 0);
  CHECK(claimed >= live_tasks);  // every live task, and requeued ones the claimers found
  CHECK(deleted + static_cast<int>(requeued_ids.size()) == old_tasks);
  // Nothing live was deleted: every claimed task and every requeued one is
  // still there, and no old cancelled task is left behind.
  for (auto id : claimed_ids) CHECK(f.queue.get_task(id));
  for (auto id : requeued_ids) CHECK(f.queue.get_task(id));
  pqxx::read_transaction tx(f.sql);
  CHECK(tx.exec1("select count(*) from tasks where state = 'cancelled'")[0].as<int>() == 0);
  CHECK(tx.exec1("select count(*) from tasks")[0].as<int>() ==
        live_tasks + static_cast<int>(requeued_ids.size()));
  tx.commit();
  check_history_consistent(f);
}
