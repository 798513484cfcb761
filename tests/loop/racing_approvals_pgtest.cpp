// Two approvals racing on one repository through two servers (docs/api.md §4.5:
// one merge per repository at a time, across servers). Both submissions are
// made from the same base; both approvals are sent at once, one through each
// `agentq serve`. Both must land, one after the other: one fast-forward, then
// a merge commit on top of it — no lost update, no force push.
#include <latch>
#include <thread>

#include <catch2/catch.hpp>

#include "loop_support.hpp"
#include "process.hpp"
#include "runner_support.hpp"
#include "support/test_database.hpp"

using namespace agentq;
using namespace agentq::testing;
using nlohmann::json;

TEST_CASE("two approvals racing on one repository through two servers both land in order",
          "[loop]") {
  scratch_dir tmp;
  test_database db;
  const auto origin = tmp / "origin.git";
  const auto seed = make_origin(origin);
  server_process one(db.url()), two(db.url());
  http_client admin(one.url(), admin_token);
  auto repo = admin.request("POST", "/v1/repos",
                            {{"name", "demo"}, {"url", origin.string()}, {"base_branch", "main"}});
  INFO(repo.raw_body);
  REQUIRE(repo.status == 201);

  // Two tasks, worked by hand from the same base, both awaiting review.
  http_client worker(one.url(), make_agent(one.url(), "worker-1", "worker"));
  std::map<std::int64_t, std::string> commit_of, path_of;
  for (const std::string name : {"left", "right"}) {
    auto r = admin.request("POST", "/v1/tasks",
                           {{"title", name}, {"body", "write " + name}, {"repo", "demo"}});
    REQUIRE(r.status == 201);
  }
  for (int i = 0; i < 2; ++i) {
    auto c = claim(worker);
    const std::string path = "task-" + std::to_string(c.task_id) + ".txt";
    path_of[c.task_id] = path;
    commit_of[c.task_id] = submit_change(worker, c, origin, tmp.path(), seed, path, path);
  }

  // Two reviewers, each holding one of the tasks through its own server.
  http_client reviewer_one(one.url(), make_agent(one.url(), "reviewer-1", "reviewer"));
  http_client reviewer_two(two.url(), make_agent(one.url(), "reviewer-2", "reviewer"));
  auto held_one = claim(reviewer_one);
  auto held_two = claim(reviewer_two);
  REQUIRE(held_one.task_id != held_two.task_id);

  // Both approvals at once.
  std::latch start(2);
  http_response answer_one, answer_two;
  auto approve = [&start](http_client& client, const claimed& c, http_response& out) {
    json body = {{"token", c.token}, {"verdict", "approve"}, {"reasons", "looks right"}};
    start.arrive_and_wait();
    out = client.request("POST", "/v1/tasks/" + std::to_string(c.task_id) + "/review", body,
                         std::chrono::seconds(60));
  };
  std::thread a([&] { approve(reviewer_one, held_one, answer_one); });
  std::thread b([&] { approve(reviewer_two, held_two, answer_two); });
  a.join();
  b.join();
  INFO("through server one: " << answer_one.raw_body << "\nthrough server two: "
                              << answer_two.raw_body << "\nserver one:\n" << one.log()
                              << "\nserver two:\n" << two.log());
  REQUIRE(answer_one.status == 200);
  REQUIRE(answer_two.status == 200);
  CHECK(answer_one.body["state"] == "done");
  CHECK(answer_two.body["state"] == "done");

  // Both changes on main, each brought in once.
  const auto main_tip = git_in(origin, "rev-parse refs/heads/main");
  for (const auto& [id, commit] : commit_of) {
    auto t = admin.request("GET", "/v1/tasks/" + std::to_string(id));
    CHECK(t.body["task"]["state"] == "done");
    CHECK(events_of(t.body, "merged").size() == 1);
    CHECK(reachable(origin, commit));
    CHECK(show_file(origin, "refs/heads/main", path_of[id]) == path_of[id]);
    CHECK(commits_touching(origin, path_of[id]).size() == 1);
  }

  // History intact and in order: the first approval fast-forwarded main to
  // its commit, the second made a merge commit on top of it (its first
  // parent), so the first-parent chain is main → first commit → seed.
  const std::string first = answer_one.body["merge_commit"], second = answer_two.body["merge_commit"];
  const bool one_first = commit_of.at(held_one.task_id) == first;
  const std::string earlier = one_first ? first : second, later = one_first ? second : first;
  const std::string later_commit = commit_of.at(one_first ? held_two.task_id : held_one.task_id);
  CHECK(earlier == commit_of.at(one_first ? held_one.task_id : held_two.task_id));
  CHECK(main_tip == later);
  CHECK(git_lines(origin, "rev-list --first-parent refs/heads/main") ==
        std::vector<std::string>{later, earlier, seed});
  CHECK(git_in(origin, "rev-list --parents -n 1 " + later) ==
        later + " " + earlier + " " + later_commit);
  CHECK(git_lines(origin, "rev-list --merges refs/heads/main") == std::vector<std::string>{later});
  CHECK(git_lines(origin, "rev-list refs/heads/main").size() == 4);
  CHECK(invariant_problems(db.url()).empty());
}
