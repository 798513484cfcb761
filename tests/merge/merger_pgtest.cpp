// The merge protocol (docs/api.md §4.5) end to end below HTTP: the store records
// approvals, the merger lands them on real bare repositories.
#include <algorithm>
#include <thread>

#include <catch2/catch.hpp>
#include <pqxx/pqxx>

#include "merge_world.hpp"

using namespace agentq;
using namespace agentq::testing;

namespace {

// How many commits on `branch` carry exactly this subject line.
long commits_with_subject(const git_fixture& g, const std::string& branch,
                          const std::string& subject) {
  auto subjects = split_lines(g.origin_git("log --format=%s refs/heads/" + branch));
  return std::count(subjects.begin(), subjects.end(), subject);
}

bool has(const std::vector<std::string>& values, const std::string& value) {
  return std::find(values.begin(), values.end(), value) != values.end();
}

// The backend waiting for repository `repo_id`'s merge lock, once one other
// than `other_than` waits (0 when none did within 30 s: the test then fails
// on it). However long land() takes to get there, this sees it.
int merge_lock_waiter(pqxx::connection& observer, std::int64_t repo_id, int other_than = 0) {
  for (int i = 0; i < 3000; ++i) {
    pqxx::nontransaction look(observer);
    int pid = look.exec_params1(
                      "select coalesce(min(pid), 0) from pg_locks where locktype = 'advisory' "
                      "and not granted and classid = 7420002 and objid = $1 and database = "
                      "(select oid from pg_database where datname = current_database())",
                      repo_id)[0]
                  .as<int>();
    if (pid != 0 && pid != other_than) return pid;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return 0;
}

}  // namespace

TEST_CASE("an approval lands as a fast-forward once and the task is done") {
  merge_world w;
  auto task = w.add_task("add feature");
  auto work = w.work_on(task, {{"feature.txt", "hello\n"}});
  auto merge_id = w.approve(task);
  CHECK(w.merge_row(merge_id)["status"] == "pending");
  auto base_before = w.git.tip("main");

  merger m(w.q.db.url(), w.config());
  auto landed = m.land(merge_id);
  CHECK(landed.outcome == merge_result::kind::merged);
  CHECK(landed.merge_commit == work.commit);  // nothing new: the base moved to the commit
  CHECK(landed.task["state"] == "done");
  CHECK(w.git.tip("main") == work.commit);
  CHECK(w.git.parents(work.commit) == std::vector<std::string>{base_before});
  CHECK(w.git.show("main", "feature.txt") == "hello");
  CHECK(w.state(task) == "done");

  auto row = w.merge_row(merge_id);
  CHECK(row["status"] == "merged");
  CHECK(row["merge_commit"] == work.commit);
  auto kinds = w.event_kinds(task);
  CHECK(has(kinds, "approved"));
  CHECK(std::count(kinds.begin(), kinds.end(), "merged") == 1);

  CHECK(w.q.queue.check_invariants().empty());

  SECTION("landing it again changes nothing and answers the same") {
    merger other(w.q.db.url(), w.config("other-cache"));
    for (auto* each : {&m, &other}) {
      auto again = each->land(merge_id);
      CHECK(again.outcome == merge_result::kind::merged);
      CHECK(again.merge_commit == work.commit);
      CHECK(again.task["state"] == "done");
    }
    CHECK(w.git.tip("main") == work.commit);
    CHECK(w.event_kinds(task) == kinds);
    CHECK(m.run_once() == 0);  // nothing pending
  }
}

TEST_CASE("a base branch that moved meanwhile gets a merge commit naming the task") {
  merge_world w;
  auto task = w.add_task("add feature");
  auto work = w.work_on(task, {{"feature.txt", "hello\n"}});
  // Someone else's change lands on main after the worker branched off.
  auto moved = w.git.commit("main", "main", {{"other.txt", "other\n"}}, "unrelated change");
  auto merge_id = w.approve(task);

  merger m(w.q.db.url(), w.config());
  auto landed = m.land(merge_id);
  REQUIRE(landed.outcome == merge_result::kind::merged);
  CHECK(landed.merge_commit != work.commit);
  CHECK(w.git.tip("main") == landed.merge_commit);
  CHECK(w.git.parents(landed.merge_commit) == std::vector<std::string>{moved, work.commit});
  auto message = w.git.origin_git("log -1 --format=%B " + landed.merge_commit);
  CHECK_THAT(message, Catch::Contains("task #" + std::to_string(task)) &&
                          Catch::Contains("add feature") && Catch::Contains(work.branch) &&
                          Catch::Contains(work.commit));
  CHECK(w.git.origin_git("log -1 --format='%an <%ae>' " + landed.merge_commit) ==
        "agentq merger <merger@agentq.test>");
  CHECK(w.git.show("main", "feature.txt") == "hello");
  CHECK(w.git.show("main", "other.txt") == "other");
  // The change is on main exactly once, and nothing of main was lost.
  CHECK(commits_with_subject(w.git, "main", "work on task " + std::to_string(task)) == 1);
  CHECK(has(w.git.history("main"), moved));
  CHECK(w.state(task) == "done");
  CHECK(w.merge_row(merge_id)["merge_commit"] == landed.merge_commit);
}

TEST_CASE("what lands is the submitted commit - not what its branch holds later") {
  merge_world w;
  auto task = w.add_task("add feature");
  auto work = w.work_on(task, {{"feature.txt", "reviewed\n"}});
  merger m(w.q.db.url(), w.config());
  // The server checked the submission (its mirror now has the commit)...
  REQUIRE(m.gateway().branch_tip_is({"proj", w.git.origin()}, work.branch, work.commit));
  auto merge_id = w.approve(task);
  // ...then the branch is rewritten with something nobody reviewed.
  auto sneaky = w.git.commit(work.branch, "main", {{"feature.txt", "unreviewed\n"}}, "sneaky");

  auto landed = m.land(merge_id);
  CHECK(landed.outcome == merge_result::kind::merged);
  CHECK(w.git.tip("main") == work.commit);
  CHECK(w.git.show("main", "feature.txt") == "reviewed");
  CHECK_FALSE(has(w.git.history("main"), sneaky));
}

TEST_CASE("a submission whose commit is gone goes back to the worker - nothing merged") {
  merge_world w;
  auto task = w.add_task("add feature");
  auto work = w.work_on(task, {{"feature.txt", "reviewed\n"}});
  auto merge_id = w.approve(task);
  w.git.commit(work.branch, "main", {{"feature.txt", "unreviewed\n"}}, "rewritten");
  w.git.origin_git("reflog expire --expire=now --all");
  w.git.origin_git("gc -q --prune=now");
  auto base_before = w.git.tip("main");

  merger m(w.q.db.url(), w.config());  // a fresh mirror: it never saw the commit
  auto landed = m.land(merge_id);
  CHECK(landed.outcome == merge_result::kind::conflict);
  CHECK_THAT(landed.detail, Catch::Contains(work.commit) && Catch::Contains("no longer"));
  CHECK(w.git.tip("main") == base_before);
  CHECK(w.state(task) == "queued");
}

TEST_CASE("a merge conflict sends the task back with the conflict and the next attempt lands") {
  merge_world w;
  w.git.commit("main", "main", {{"shared.txt", "line one\nline two\n"}}, "shared file");
  auto task = w.add_task("change line two");
  auto first = w.work_on(task, {{"shared.txt", "line one\nline 2 by the worker\n"}});
  // main changes the same line meanwhile.
  auto moved = w.git.commit("main", "main", {{"shared.txt", "line one\nline II on main\n"}},
                            "conflicting change");
  auto merge_id = w.approve(task);

  merger m(w.q.db.url(), w.config());
  auto landed = m.land(merge_id);
  REQUIRE(landed.outcome == merge_result::kind::conflict);
  CHECK_THAT(landed.detail, Catch::Contains("shared.txt") && Catch::Contains("Rebase") &&
                                Catch::Contains(first.commit));
  CHECK(landed.task["state"] == "queued");
  CHECK(w.git.tip("main") == moved);  // nothing pushed

  auto answer = *w.q.queue.get_task(task);
  CHECK(answer["task"]["state"] == "queued");
  REQUIRE(answer["feedback"].size() == 1);
  CHECK(answer["feedback"][0]["source"] == "merge_conflict");
  CHECK(answer["feedback"][0]["text"] == landed.detail);
  auto kinds = w.event_kinds(task);
  CHECK(has(kinds, "merge_conflict"));
  CHECK_FALSE(has(kinds, "merged"));
  CHECK(w.q.snapshot(task)["disagreements"] == 0);  // nobody disagreed
  auto row = w.merge_row(merge_id);
  CHECK(row["status"] == "conflict");
  CHECK(row["detail"] == landed.detail);

  SECTION("landing the conflicted merge again answers the conflict and changes nothing") {
    auto again = m.land(merge_id);
    CHECK(again.outcome == merge_result::kind::conflict);
    CHECK(again.detail == landed.detail);
    CHECK(w.event_kinds(task) == kinds);
  }

  SECTION("the worker's next attempt, on the new base, lands") {
    auto grant = w.q.claim_one(w.q.worker2);
    REQUIRE(grant.task_id == task);
    // The worker is told why.
    REQUIRE(grant.answer["feedback"].is_array());
    CHECK(grant.answer["feedback"].dump().find("shared.txt") != std::string::npos);
    auto branch = claim_branch(task, grant.token);
    auto second = w.git.commit(branch, "main",
                               {{"shared.txt", "line one\nline II on main, 2 by the worker\n"}},
                               "second attempt");
    REQUIRE(w.q.queue.submit(task, submit_request{grant.token, branch, second, "rebased"},
                             w.q.worker2));
    auto next_merge = w.approve(task);
    CHECK(next_merge != merge_id);
    auto done = m.land(next_merge);
    CHECK(done.outcome == merge_result::kind::merged);
    CHECK(done.merge_commit == second);  // built on the new base: a fast-forward
    CHECK(w.git.show("main", "shared.txt") == "line one\nline II on main, 2 by the worker");
    CHECK(w.state(task) == "done");
    CHECK_FALSE(has(w.git.history("main"), first.commit));
  }
  CHECK(w.q.queue.check_invariants().empty());
}

TEST_CASE("two approvals racing on one repository through two mergers both land") {
  merge_world w;
  auto task_a = w.add_task("feature a");
  auto task_b = w.add_task("feature b");
  auto work_a = w.work_on(task_a, w.q.worker1, {{"a.txt", "a\n"}});
  auto work_b = w.work_on(task_b, w.q.worker2, {{"b.txt", "b\n"}});
  auto merge_a = w.approve(task_a, w.q.reviewer1);
  auto merge_b = w.approve(task_b, w.q.reviewer2);
  auto base_before = w.git.tip("main");

  // Two servers: their own connections, their own mirrors.
  merger server1(w.q.db.url(), w.config("server1"));
  merger server2(w.q.db.url(), w.config("server2"));
  merge_result landed_a, landed_b;
  std::string error_a, error_b;
  std::thread one([&] {
    try { landed_a = server1.land(merge_a); } catch (const std::exception& e) { error_a = e.what(); }
  });
  std::thread two([&] {
    try { landed_b = server2.land(merge_b); } catch (const std::exception& e) { error_b = e.what(); }
  });
  one.join();
  two.join();
  REQUIRE(error_a.empty());
  REQUIRE(error_b.empty());
  CHECK(landed_a.outcome == merge_result::kind::merged);
  CHECK(landed_b.outcome == merge_result::kind::merged);
  CHECK(w.state(task_a) == "done");
  CHECK(w.state(task_b) == "done");

  // One after the other: one fast-forward, then a merge commit on top of it.
  auto history = w.git.history("main");
  CHECK(has(history, work_a.commit));
  CHECK(has(history, work_b.commit));
  CHECK(has(history, base_before));
  CHECK(w.git.show("main", "a.txt") == "a");
  CHECK(w.git.show("main", "b.txt") == "b");
  auto tip = w.git.tip("main");
  CHECK((tip == landed_a.merge_commit || tip == landed_b.merge_commit));
  auto first_parents = split_lines(w.git.origin_git("rev-list --first-parent refs/heads/main"));
  CHECK(has(first_parents, landed_a.merge_commit));
  CHECK(has(first_parents, landed_b.merge_commit));
  CHECK(commits_with_subject(w.git, "main", "work on task " + std::to_string(task_a)) == 1);
  CHECK(commits_with_subject(w.git, "main", "work on task " + std::to_string(task_b)) == 1);
  CHECK(w.q.queue.check_invariants().empty());
}

TEST_CASE("land waits for the repository's merge lock") {
  merge_world w;
  auto task = w.add_task("add feature");
  auto work = w.work_on(task, {{"feature.txt", "hello\n"}});
  auto merge_id = w.approve(task);
  auto repo_id = w.merge_row(merge_id)["repo_id"].get<std::int64_t>();

  // Another server's merge on this repository, in progress.
  pqxx::connection holder(w.q.db.url());
  pqxx::work held(holder);
  held.exec_params("select pg_advisory_xact_lock(7420002, $1::integer)", repo_id);

  merger m(w.q.db.url(), w.config());
  merge_result landed;
  std::string error;
  std::thread lander([&] {
    try { landed = m.land(merge_id); } catch (const std::exception& e) { error = e.what(); }
  });
  // Wait until land() is queued behind the lock (seen in pg_locks); a land()
  // that did not take the lock would finish instead, and no waiter is seen.
  pqxx::connection observer(w.q.db.url());
  CHECK(merge_lock_waiter(observer, repo_id) != 0);
  CHECK(w.merge_row(merge_id)["status"] == "pending");
  CHECK(w.git.tip("main") != work.commit);

  held.abort();  // the other merge is done
  lander.join();
  REQUIRE(error.empty());
  CHECK(landed.outcome == merge_result::kind::merged);
  CHECK(w.git.tip("main") == work.commit);
}

TEST_CASE("a land whose database connections are killed while it waits starts over and lands once") {
  // pg_terminate_backend of the merger's connections while PostgreSQL stays
  // up (a pooler restart, an operator, a failover): the approval's merge must
  // not fail for it. land() waits behind another merge's lock, its lock
  // connection's backend is killed there, and it must start over.
  merge_world w;
  auto task = w.add_task("add feature");
  auto work = w.work_on(task, {{"feature.txt", "hello\n"}});
  auto merge_id = w.approve(task);
  auto repo_id = w.merge_row(merge_id)["repo_id"].get<std::int64_t>();

  pqxx::connection holder(w.q.db.url());
  pqxx::work held(holder);
  held.exec_params("select pg_advisory_xact_lock(7420002, $1::integer)", repo_id);

  merger m(w.q.db.url(), w.config());
  merge_result landed;
  std::string error;
  std::thread lander([&] {
    try { landed = m.land(merge_id); } catch (const std::exception& e) { error = e.what(); }
  });
  pqxx::connection observer(w.q.db.url());
  const int first = merge_lock_waiter(observer, repo_id);
  REQUIRE(first != 0);
  {
    // The backend of land()'s lock connection, killed while it waits.
    pqxx::nontransaction kill(observer);
    CHECK(kill.exec_params1("select pg_terminate_backend($1)", first)[0].as<bool>());
  }
  // land() is back, on a new connection, waiting for the same lock.
  const int second = merge_lock_waiter(observer, repo_id, first);
  CHECK(second != 0);
  CHECK(w.merge_row(merge_id)["status"] == "pending");

  held.abort();
  lander.join();
  REQUIRE(error.empty());
  CHECK(landed.outcome == merge_result::kind::merged);
  CHECK(w.git.tip("main") == work.commit);
  auto kinds = w.event_kinds(task);
  CHECK(std::count(kinds.begin(), kinds.end(), "merged") == 1);
  CHECK(w.q.queue.check_invariants().empty());
}

TEST_CASE("approvals are not blocked by a merge in progress on their repository") {
  merge_world w;
  auto task_a = w.add_task("feature a");
  auto task_b = w.add_task("feature b");
  w.work_on(task_a, w.q.worker1, {{"a.txt", "a\n"}});
  w.work_on(task_b, w.q.worker2, {{"b.txt", "b\n"}});
  auto merge_a = w.approve(task_a, w.q.reviewer1);
  auto repo_id = w.merge_row(merge_a)["repo_id"].get<std::int64_t>();

  // What land() holds while it merges: the repository's advisory lock, and
  // no lock on the repos row.
  pqxx::connection holder(w.q.db.url());
  pqxx::work held(holder);
  held.exec_params("select pg_advisory_xact_lock(7420002, $1::integer)", repo_id);
  // statement_timeout turns a wait into an error instead of a hung test.
  w.q.queue = store(w.q.db.url() + " options='-c statement_timeout=20s'");
  auto merge_b = w.approve(task_b, w.q.reviewer2);
  CHECK(merge_b > merge_a);
  held.abort();

  merger m(w.q.db.url(), w.config());
  CHECK(m.run_once() == 2);
  CHECK(w.state(task_a) == "done");
  CHECK(w.state(task_b) == "done");
}

TEST_CASE("a stale reviewer cannot approve: nothing is recorded or merged") {
  merge_world w;
  w.q.queue.set_clock(at(0));
  auto task = w.add_task("add feature");
  w.work_on(task, {{"feature.txt", "hello\n"}});
  auto stale = w.q.claim_one(w.q.reviewer1, 60);
  // The lease runs out and another reviewer takes the task.
  w.q.queue.set_clock(at(120));
  w.q.queue.reap_expired(100);
  auto fresh = w.q.claim_one(w.q.reviewer2, 60);
  REQUIRE(fresh.task_id == task);
  REQUIRE(fresh.token > stale.token);
  auto base_before = w.git.tip("main");

  auto refused = w.q.queue.approve(task, review_request{stale.token, verdict::approve, "ok"},
                                   w.q.reviewer1);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == error_code::stale_token);
  CHECK(w.q.snapshot(task)["merges"].is_null());  // no merge recorded
  CHECK(w.state(task) == "reviewing");

  merger m(w.q.db.url(), w.config());
  CHECK(m.run_once() == 0);
  CHECK(w.git.tip("main") == base_before);
}
