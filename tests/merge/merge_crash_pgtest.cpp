// A merger that dies between its push and recording the merge (docs/api.md
// §4.5: each approved submission lands exactly once, also when a server dies
// mid-merge). The merger runs in a child process that AGENTQ_FAULT kills.
#include <algorithm>
#include <cstdlib>
#include <string>
#include <thread>

#include <catch2/catch.hpp>
#include <sys/wait.h>
#include <unistd.h>

#include "git/fault.hpp"
#include "merge_world.hpp"

using namespace agentq;
using namespace agentq::testing;

namespace {

// Runs the helper to land `merge_id` with AGENTQ_FAULT=`fault`; answers its
// wait status.
int land_in_child(const std::string& database_url, const std::string& cache_dir,
                  std::int64_t merge_id, const std::string& fault) {
  std::string id = std::to_string(merge_id);
  pid_t pid = fork();
  if (pid == 0) {
    setenv("AGENTQ_FAULT", fault.c_str(), 1);
    execl(AGENTQ_LAND_HELPER, AGENTQ_LAND_HELPER, database_url.c_str(), cache_dir.c_str(),
          id.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  REQUIRE(pid > 0);
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  return status;
}

long count_of(const std::vector<std::string>& values, const std::string& value) {
  return std::count(values.begin(), values.end(), value);
}

}  // namespace

TEST_CASE("a merger killed after its push is reconciled: done with the change on the base once") {
  merge_world w;
  auto task = w.add_task("add feature");
  auto work = w.work_on(task, {{"feature.txt", "hello\n"}});
  // main moved: the dying merger makes a merge commit.
  auto moved = w.git.commit("main", "main", {{"other.txt", "other\n"}}, "unrelated change");
  auto merge_id = w.approve(task);

  int status = land_in_child(w.q.db.url(), w.git.cache("dead-server").string(), merge_id,
                             "merger.after_push");
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 137);

  // It pushed, and recorded nothing.
  auto pushed_tip = w.git.tip("main");
  REQUIRE(pushed_tip != moved);
  CHECK(w.git.parents(pushed_tip) == std::vector<std::string>{moved, work.commit});
  CHECK(w.merge_row(merge_id)["status"] == "pending");
  CHECK(w.state(task) == "reviewing");

  SECTION("another server's reconcile pass records it") {
    merger m(w.q.db.url(), w.config("live-server"));
    CHECK(m.run_once() == 1);
    CHECK(m.run_once() == 0);
  }
  SECTION("the same server, restarted, records it") {
    merger m(w.q.db.url(), w.config("dead-server"));
    auto landed = m.land(merge_id);
    CHECK(landed.outcome == merge_result::kind::merged);
    CHECK(landed.merge_commit == pushed_tip);
  }

  auto row = w.merge_row(merge_id);
  CHECK(row["status"] == "merged");
  CHECK(row["merge_commit"] == pushed_tip);  // the commit that brought it in
  CHECK(w.state(task) == "done");
  CHECK(w.git.tip("main") == pushed_tip);  // no second merge commit
  auto history = w.git.history("main");
  CHECK(count_of(history, work.commit) == 1);
  auto merges = split_lines(w.git.origin_git("rev-list --merges refs/heads/main"));
  CHECK(merges == std::vector<std::string>{pushed_tip});
  auto kinds = w.event_kinds(task);
  CHECK(count_of(kinds, "merged") == 1);
  CHECK(w.q.queue.check_invariants().empty());
}

TEST_CASE("a fast-forward pushed by a dying merger is recorded as that commit") {
  merge_world w;
  auto task = w.add_task("add feature");
  auto work = w.work_on(task, {{"feature.txt", "hello\n"}});
  auto merge_id = w.approve(task);

  int status = land_in_child(w.q.db.url(), w.git.cache().string(), merge_id, "merger.after_push");
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 137);
  REQUIRE(w.git.tip("main") == work.commit);
  REQUIRE(w.merge_row(merge_id)["status"] == "pending");

  // Later, someone else's change lands on top; reconcile still finds the
  // commit that brought this one in, not the new tip.
  auto later = w.git.commit("main", "main", {{"later.txt", "later\n"}}, "later change");
  merger m(w.q.db.url(), w.config());
  CHECK(m.run_once() == 1);
  CHECK(w.merge_row(merge_id)["merge_commit"] == work.commit);
  CHECK(w.git.tip("main") == later);
  CHECK(w.state(task) == "done");
}

TEST_CASE("without a fault the helper lands the merge normally") {
  merge_world w;
  auto task = w.add_task("add feature");
  auto work = w.work_on(task, {{"feature.txt", "hello\n"}});
  auto merge_id = w.approve(task);
  int status = land_in_child(w.q.db.url(), w.git.cache().string(), merge_id, "");
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK(w.git.tip("main") == work.commit);
  CHECK(w.merge_row(merge_id)["status"] == "merged");
  CHECK(w.state(task) == "done");
}

TEST_CASE("the merger's background loop lands pending merges on its own") {
  merge_world w;
  auto task = w.add_task("add feature");
  auto work = w.work_on(task, {{"feature.txt", "hello\n"}});
  w.approve(task);  // recorded, never landed: as if its server had died

  auto config = w.config();
  config.interval = std::chrono::milliseconds(20);
  merger m(w.q.db.url(), config);
  m.start();
  // However long it takes; bounded so that a loop that never lands fails.
  for (int i = 0; i < 3000 && w.state(task) != "done"; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  m.stop();
  CHECK(w.state(task) == "done");
  CHECK(w.git.tip("main") == work.commit);
}

TEST_CASE("young pending merges are left to the server that is landing them") {
  merge_world w;
  auto task = w.add_task("add feature");
  w.work_on(task, {{"feature.txt", "hello\n"}});
  auto merge_id = w.approve(task);
  auto config = w.config();
  config.reconcile_after_s = 3600;
  merger m(w.q.db.url(), config);
  CHECK(m.run_once() == 0);
  CHECK(w.merge_row(merge_id)["status"] == "pending");
}

TEST_CASE("AGENTQ_FAULT names one fault point or several") {
  unsetenv("AGENTQ_FAULT");
  CHECK_FALSE(fault_armed("merger.after_push"));
  setenv("AGENTQ_FAULT", "merger.after_push", 1);
  CHECK(fault_armed("merger.after_push"));
  CHECK_FALSE(fault_armed("merger"));
  setenv("AGENTQ_FAULT", "server.before_commit,merger.after_push", 1);
  CHECK(fault_armed("merger.after_push"));
  CHECK(fault_armed("server.before_commit"));
  CHECK_FALSE(fault_armed("merger.after"));
  unsetenv("AGENTQ_FAULT");
}
