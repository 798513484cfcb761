// A stale reviewer cannot approve or reject (docs/api.md §4.3): reviewer A's
// lease runs out, reviewer B claims the review with a higher token, and then
// A's verdicts get 409 and change nothing — no merge, no disagreement, not a
// byte of the task's answer — while B's approval lands.
#include <catch2/catch.hpp>

#include "loop_support.hpp"
#include "process.hpp"
#include "runner_support.hpp"
#include "support/test_database.hpp"

using namespace agentq;
using namespace agentq::testing;
using nlohmann::json;

TEST_CASE("a stale reviewer cannot approve or reject - the current one can", "[loop]") {
  scratch_dir tmp;
  test_database db;
  const auto origin = tmp / "origin.git";
  const auto seed = make_origin(origin);
  server_process server(db.url());
  http_client admin(server.url(), admin_token);
  REQUIRE(admin.request("POST", "/v1/repos",
                        {{"name", "demo"}, {"url", origin.string()}, {"base_branch", "main"}})
              .status == 201);
  auto added = admin.request("POST", "/v1/tasks",
                             {{"title", "feature"}, {"body", "write feature.txt"}, {"repo", "demo"}});
  REQUIRE(added.status == 201);
  const auto id = added.body["task"]["id"].get<std::int64_t>();
  const auto task_path = "/v1/tasks/" + std::to_string(id);

  http_client worker(server.url(), make_agent(server.url(), "worker-1", "worker"));
  auto work = claim(worker);
  const auto commit =
      submit_change(worker, work, origin, tmp.path(), seed, "feature.txt", "a feature");

  // A claims with the shortest lease and lets it run out; B's long-poll gets
  // the review once the reaper has handed it back.
  http_client reviewer_a(server.url(), make_agent(server.url(), "reviewer-a", "reviewer"));
  http_client reviewer_b(server.url(), make_agent(server.url(), "reviewer-b", "reviewer"));
  auto stale = claim(reviewer_a, 5);
  REQUIRE(stale.task_id == id);
  auto current = claim(reviewer_b, 60, std::chrono::seconds(90));
  REQUIRE(current.task_id == id);
  REQUIRE(current.token > stale.token);

  const auto before = admin.request("GET", task_path);
  REQUIRE(before.status == 200);
  REQUIRE(before.body["task"]["state"] == "reviewing");

  auto stale_verdict = [&](const std::string& verdict) {
    return reviewer_a.request("POST", task_path + "/review",
                              {{"token", stale.token},
                               {"verdict", verdict},
                               {"reasons", "A's late " + verdict}});
  };
  for (const std::string verdict : {"approve", "reject"}) {
    auto r = stale_verdict(verdict);
    INFO(verdict << ": " << r.raw_body);
    CHECK(r.status == 409);
    CHECK((r.error_code() == "stale_token" || r.error_code() == "lease_expired"));
  }
  // A's heartbeat is refused too: it cannot win its lease back.
  auto beat = reviewer_a.request("POST", task_path + "/heartbeat", {{"token", stale.token}});
  CHECK(beat.status == 409);

  const auto after = admin.request("GET", task_path);
  CHECK(after.body == before.body);
  CHECK(git_in(origin, "rev-parse refs/heads/main") == seed);
  auto log = admin.request("GET", "/v1/disagreements?status=all");
  REQUIRE(log.status == 200);
  CHECK(log.body["disagreements"].empty());

  // B's approval lands the submitted commit (a fast-forward: main has not
  // moved).
  auto approved = reviewer_b.request("POST", task_path + "/review",
                                     {{"token", current.token},
                                      {"verdict", "approve"},
                                      {"reasons", "B checked it"}},
                                     std::chrono::seconds(60));
  INFO(approved.raw_body << "\n" << server.log());
  REQUIRE(approved.status == 200);
  CHECK(approved.body["state"] == "done");
  CHECK(approved.body["merge_commit"] == commit);
  CHECK(git_in(origin, "rev-parse refs/heads/main") == commit);

  // Even now A's verdict is refused, and the task keeps B's review only.
  CHECK(stale_verdict("reject").status == 409);
  auto final_answer = admin.request("GET", task_path);
  CHECK(final_answer.body["task"]["state"] == "done");
  REQUIRE(final_answer.body["reviews"].size() == 1);
  CHECK(final_answer.body["reviews"][0]["reviewer"] == "reviewer-b");
  CHECK(final_answer.body["reviews"][0]["token"] == current.token);
  CHECK(admin.request("GET", "/v1/disagreements?status=all").body["disagreements"].empty());
  CHECK(invariant_problems(db.url()).empty());
}
