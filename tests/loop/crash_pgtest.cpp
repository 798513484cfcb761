// A server killed between pushing a merge and recording it, then restarted
// (docs/api.md §4.5: each approved submission lands exactly once, also when a
// server dies mid-merge). The first `agentq serve` runs with
// AGENTQ_FAULT=merger.after_push: it pushes the merge and exits at once,
// dropping the approval's connection. A fresh server on the same database
// (with a cache of its own) finishes the pending merge — on its own, or when
// the reviewer retries its approval: the task ends done and main keeps the
// one merge commit the dead server pushed.
#include <cstdlib>

#include <catch2/catch.hpp>

#include "loop_support.hpp"
#include "process.hpp"
#include "runner_support.hpp"
#include "support/test_database.hpp"

using namespace agentq;
using namespace agentq::testing;
using nlohmann::json;

namespace {

// A server started with AGENTQ_FAULT set (the child inherits the variable;
// it is taken away again at once so nothing else started later gets it).
std::unique_ptr<server_process> faulty_server(const std::string& database_url,
                                              const std::string& fault) {
  ::setenv("AGENTQ_FAULT", fault.c_str(), 1);
  std::unique_ptr<server_process> server;
  try {
    server = std::make_unique<server_process>(database_url);
  } catch (...) {
    ::unsetenv("AGENTQ_FAULT");
    throw;
  }
  ::unsetenv("AGENTQ_FAULT");
  return server;
}

}  // namespace

TEST_CASE("a server killed after pushing a merge - then restarted: the task ends done with the "
          "change on main once", "[loop]") {
  scratch_dir tmp;
  test_database db;
  const auto origin = tmp / "origin.git";
  const auto seed = make_origin(origin);
  auto doomed = faulty_server(db.url(), "merger.after_push");
  http_client admin(doomed->url(), admin_token);
  auto repo = admin.request("POST", "/v1/repos",
                            {{"name", "demo"}, {"url", origin.string()}, {"base_branch", "main"}});
  INFO(repo.raw_body);
  REQUIRE(repo.status == 201);
  auto added = admin.request("POST", "/v1/tasks",
                             {{"title", "feature"}, {"body", "write feature.txt"}, {"repo", "demo"}});
  REQUIRE(added.status == 201);
  const auto id = added.body["task"]["id"].get<std::int64_t>();
  const auto task_path = "/v1/tasks/" + std::to_string(id);

  http_client worker(doomed->url(), make_agent(doomed->url(), "worker-1", "worker"));
  auto work = claim(worker);
  REQUIRE(work.task_id == id);
  const auto commit =
      submit_change(worker, work, origin, tmp.path(), seed, "feature.txt", "a feature");
  // main moves meanwhile, so the dying merger makes a merge commit (a second
  // one after the restart would show).
  const auto moved = push_change(origin, tmp.path(), "main", seed, "other.txt", "other work");

  const auto reviewer_token = make_agent(doomed->url(), "reviewer-1", "reviewer");
  http_client reviewer(doomed->url(), reviewer_token);
  // The shortest lease: the pending merge outlives it, and still no reaper
  // may hand the review to anyone else (an approval holds the task).
  auto review = claim(reviewer, 5);
  REQUIRE(review.task_id == id);
  const json approval = {{"token", review.token}, {"verdict", "approve"}, {"reasons", "looks right"}};
  CHECK_THROWS_AS(reviewer.request("POST", task_path + "/review", approval), http_unreachable);
  const std::string doomed_log = doomed->log();
  CHECK(doomed->terminate() == 137);  // it died at the fault, not on our SIGTERM

  // It pushed a merge commit of `moved` and the submission, and recorded
  // nothing: the task still waits in reviewing.
  const auto pushed = git_in(origin, "rev-parse refs/heads/main");
  INFO("dead server's log:\n" << doomed_log);
  REQUIRE(pushed != moved);
  CHECK(git_in(origin, "rev-list --parents -n 1 " + pushed) ==
        pushed + " " + moved + " " + commit);

  // A fresh server on the same database, with a git cache of its own.
  server_process restarted(db.url());
  http_client admin_again(restarted.url(), admin_token);
  CHECK(admin_again.request("GET", task_path).body["task"]["state"] == "reviewing");
  json answer;
  SECTION("its merger reconciles the pending merge") {
    // A pending merge is orphaned once reconcile_after_s (30 s) old; the
    // merger looks every 5 s: bounded, well under this limit.
    const bool done = wait_until(
        [&] {
          auto r = admin_again.request("GET", task_path);
          answer = r.body;
          return r.status == 200 && answer["task"]["state"] == "done";
        },
        std::chrono::seconds(120));
    INFO("task: " << answer.dump(2) << "\nrestarted server's log:\n" << restarted.log());
    REQUIRE(done);
  }
  SECTION("the reviewer's retried approval through it lands the same merge") {
    // The reviewer never got its answer, so it asks again with its token.
    http_client retry(restarted.url(), reviewer_token);
    for (int i = 0; i < 2; ++i) {  // and once more: the same answer
      auto r = retry.request("POST", task_path + "/review", approval, std::chrono::seconds(60));
      INFO(r.raw_body << "\nrestarted server's log:\n" << restarted.log());
      REQUIRE(r.status == 200);
      CHECK(r.body["state"] == "done");
      CHECK(r.body["merge_commit"] == pushed);
    }
    answer = admin_again.request("GET", task_path).body;
    REQUIRE(answer["task"]["state"] == "done");
  }

  // On main once: no second merge commit, the one the dead server pushed is
  // the tip and is what the merge is recorded as.
  CHECK(git_in(origin, "rev-parse refs/heads/main") == pushed);
  CHECK(git_lines(origin, "rev-list --merges refs/heads/main") == std::vector<std::string>{pushed});
  CHECK(commits_touching(origin, "feature.txt") == std::vector<std::string>{commit});
  auto merged = events_of(answer, "merged");
  REQUIRE(merged.size() == 1);
  CHECK(merged[0]["detail"]["merge_commit"] == pushed);
  CHECK(merged[0]["detail"]["commit"] == commit);
  CHECK(invariant_problems(db.url()).empty());
}
