// A finished task's branches are deleted after its merge (issue 9): exactly
// refs/heads/agentq/<id>/<token>, never the base branch or anything else;
// and a submit check of another task's branch never fails while branches
// are being deleted. Real repositories, a real PostgreSQL for the merger.
#include <atomic>
#include <chrono>
#include <fstream>
#include <thread>

#include <catch2/catch.hpp>

#include "merge_world.hpp"

using namespace agentq;
using namespace agentq::testing;

TEST_CASE("after a merge the task's agentq branches are gone, everything else stays") {
  merge_world w;
  auto task = w.add_task("add feature");
  auto other_task = w.add_task("another task");
  const std::string id = std::to_string(task);
  // An earlier claim of the same task left a branch too.
  auto earlier = w.git.commit("agentq/" + id + "/99", "main", {{"old.txt", "old\n"}}, "earlier");
  auto work = w.work_on(task, {{"feature.txt", "hello\n"}});
  // Names that look alike but are not this task's claim branches.
  for (const auto& keep : {"agentq/" + std::to_string(other_task) + "/1", "agentq/" + id + "0/1",
                           "agentq/" + id + "/notes", std::string("feature")})
    w.git.commit(keep, "main", {{"k.txt", keep + "\n"}}, "keep " + keep);
  auto merge_id = w.approve(task);

  SECTION("deleted by default") {
    merger m(w.q.db.url(), w.config());
    REQUIRE(m.land(merge_id).outcome == merge_result::kind::merged);
    CHECK(w.git.tip(work.branch).empty());
    CHECK(w.git.tip("agentq/" + id + "/99").empty());
    CHECK(w.git.tip("main") == work.commit);
    CHECK_FALSE(w.git.tip("agentq/" + std::to_string(other_task) + "/1").empty());
    CHECK_FALSE(w.git.tip("agentq/" + id + "0/1").empty());
    CHECK_FALSE(w.git.tip("agentq/" + id + "/notes").empty());
    CHECK_FALSE(w.git.tip("feature").empty());
    // The mirror's tracking refs of the task went too.
    CHECK(w.git.cache().string().size() > 0);
    auto tracking = sh("git --git-dir=" + quote((w.git.cache() / "proj").string()) +
                       " for-each-ref --format='%(refname)' refs/remotes/origin/agentq/" + id +
                       "/");
    CHECK(tracking.empty());
    CHECK(w.state(task) == "done");
    (void)earlier;
  }
  SECTION("kept with delete_task_branches = false (--keep-task-branches)") {
    auto config = w.config();
    config.delete_task_branches = false;
    merger m(w.q.db.url(), config);
    REQUIRE(m.land(merge_id).outcome == merge_result::kind::merged);
    CHECK(w.git.tip(work.branch) == work.commit);
    CHECK(w.git.tip("agentq/" + id + "/99") == earlier);
  }
}

TEST_CASE("delete_task_branches never deletes the base branch") {
  git_fixture g;
  auto base = g.commit("agentq/5/1", "main", {{"a.txt", "a\n"}}, "a base named like a claim");
  auto doomed = g.commit("agentq/5/2", "main", {{"b.txt", "b\n"}}, "claim branch");
  git::repo_gateway gateway(g.cache());
  git::repo_ref repo{"proj", g.origin()};
  CHECK(gateway.delete_task_branches(repo, 5, "agentq/5/1") == 1);
  CHECK(g.tip("agentq/5/1") == base);
  CHECK(g.tip("agentq/5/2").empty());
  CHECK_FALSE(g.tip("main").empty());
  CHECK(gateway.delete_task_branches(repo, 5, "agentq/5/1") == 0);  // nothing left: no error
  (void)doomed;
}

TEST_CASE("a submit check never fails while other tasks' branches are deleted") {
  git_fixture g;
  auto mine = g.commit("agentq/90000/1", "main", {{"m.txt", "mine\n"}}, "the checked claim");
  const auto main_tip = g.tip("main");
  // 1,500 finished tasks with two branches each, packed like a server's refs.
  {
    std::ofstream out(g.dir() / "refs.txt");
    for (int task = 1; task <= 1500; ++task)
      for (int token : {1, 2})
        out << "create refs/heads/agentq/" << task << "/" << token << " " << main_tip << "\n";
  }
  sh("git -C " + quote(g.origin()) + " update-ref --stdin < " +
     quote((g.dir() / "refs.txt").string()));
  sh("git -C " + quote(g.origin()) + " pack-refs --all");

  git::repo_gateway gateway(g.cache());
  git::repo_ref repo{"proj", g.origin()};
  std::atomic<bool> deleting{true};
  std::atomic<int> checks{0}, wrong{0}, failed{0};
  std::string first_error;
  std::thread checker([&] {
    while (deleting) {
      try {
        if (!gateway.branch_tip_is(repo, "agentq/90000/1", mine)) ++wrong;
      } catch (const std::exception& e) {
        if (failed++ == 0) first_error = e.what();
      }
      ++checks;
    }
  });
  // Two deleters at once: the merger's (libgit2) and git's own. Two ref
  // writers in one repository race on the directories under refs/heads/agentq
  // (one removes an empty directory while the other creates its lock file in
  // it), and git then answers "cannot lock ref": transient, so git's side
  // tries again, as a runner retries a refused push. The thread never throws
  // (that would abort the whole test binary); what it could not do is counted.
  std::atomic<int> cli_gave_up{0};
  std::thread cli_deleter([&] {
    for (int task = 1001; task <= 1500; ++task) {
      bool done = false;
      for (int attempt = 0; attempt < 20 && !done; ++attempt) {
        try {
          sh("git -C " + quote(g.origin()) + " update-ref -d refs/heads/agentq/" +
             std::to_string(task) + "/1 2>/dev/null");
          done = true;
        } catch (const std::exception&) {
          std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
      }
      if (!done) ++cli_gave_up;
    }
  });
  int deleted = 0;
  for (int task = 1; task <= 1000; ++task) deleted += gateway.delete_task_branches(repo, task, "main");
  cli_deleter.join();
  deleting = false;
  checker.join();
  INFO(first_error);
  CHECK(deleted == 2000);
  CHECK(cli_gave_up == 0);
  CHECK(checks > 0);
  CHECK(failed == 0);
  CHECK(wrong == 0);
  CHECK(g.tip("agentq/1000/2").empty());
  CHECK(g.tip("agentq/1500/1").empty());
  CHECK(g.tip("agentq/1500/2") == main_tip);
  CHECK(g.tip("agentq/90000/1") == mine);
}
