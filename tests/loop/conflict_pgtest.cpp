// A merge conflict goes back to the worker and succeeds on the next attempt
// (issue 5), through the real loop: two tasks write the same file with
// different text, worked at the same time by two agentq-workers from the same
// base (tests/loop/agents/conflict-worker.sh waits for both claims). The
// first approval lands; the second conflicts, so that task returns to queued
// with the conflict as feedback; the agent then keeps the base's text and
// adds its own, and that lands. A conflict is an event, not a disagreement.
#include <algorithm>
#include <csignal>

#include <catch2/catch.hpp>

#include "e2e_support.hpp"
#include "loop_support.hpp"

using namespace agentq::testing;
using nlohmann::json;

TEST_CASE("a merge conflict goes back to the worker and lands on the next attempt", "[loop]") {
  e2e_fixture f({"--retry-backoff-s", "1"});
  const auto reviewer_token = f.agent("reviewer-1", "reviewer");
  const std::map<std::string, std::string> text_of = {{"alpha", "alpha was here"},
                                                      {"beta", "beta was here"}};
  std::map<std::int64_t, std::string> task_text;
  for (const auto& [title, text] : text_of)
    task_text[f.add_task(title, "shared.txt " + text + "\n")] = text;

  const std::string agent = "sh " + quote(std::string(AGENTQ_LOOP_AGENTS_DIR) +
                                          "/conflict-worker.sh");
  const std::vector<std::string> quick = {"--wait-s", "2"};
  std::vector<std::unique_ptr<runner_process>> fleet;
  for (const std::string name : {"worker-1", "worker-2"})
    fleet.push_back(f.start("worker", f.agent(name, "worker"), agent, quick, name));
  fleet.push_back(f.start("reviewer", reviewer_token, f.example_reviewer(), quick, "reviewer-1"));

  const bool all_done = wait_until(
      [&] {
        return std::all_of(task_text.begin(), task_text.end(),
                           [&](const auto& t) { return f.state(t.first) == "done"; });
      },
      std::chrono::seconds(240));
  for (auto& runner : fleet) runner->signal(SIGTERM);
  std::string logs;
  for (auto& runner : fleet) {
    const int status = runner->wait(std::chrono::seconds(60));
    CHECK(status == 0);
    logs += runner->log() + "\n-----\n";
  }
  INFO("runner logs:\n" << logs << "\nserver log:\n" << f.server.log());
  REQUIRE(all_done);

  // Exactly one conflict, on one of the tasks.
  std::int64_t conflicted = 0, clean = 0;
  std::size_t conflicts = 0;
  for (const auto& [id, text] : task_text) {
    auto answer = f.get_task(id);
    INFO("task " << id << ": " << answer.dump(2));
    auto found = events_of(answer, "merge_conflict");
    conflicts += found.size();
    if (found.empty()) {
      clean = id;
      continue;
    }
    conflicted = id;
    CHECK(found[0]["to_state"] == "queued");
    CHECK(found[0]["actor"].get<std::string>().find("merge") != std::string::npos);
    CHECK(found[0]["detail"]["detail"].get<std::string>().find("shared.txt") != std::string::npos);
    // Two attempts: the first conflicted and never reached main, the second
    // (from the new base) was approved and landed.
    const auto& submissions = answer["submissions"];
    REQUIRE(submissions.size() == 2);
    CHECK(found[0]["detail"]["commit"] == submissions[0]["commit"]);
    CHECK_FALSE(reachable(f.origin, submissions[0]["commit"]));
    CHECK(reachable(f.origin, submissions[1]["commit"]));
    REQUIRE(answer["reviews"].size() == 2);
    CHECK(answer["reviews"][0]["verdict"] == "approve");
    CHECK(answer["reviews"][1]["verdict"] == "approve");
    CHECK(events_of(answer, "merged").size() == 1);
  }
  REQUIRE(conflicts == 1);
  REQUIRE(conflicted != 0);
  REQUIRE(clean != 0);
  auto first = f.get_task(clean);
  REQUIRE(first["submissions"].size() == 1);
  CHECK(reachable(f.origin, first["submissions"][0]["commit"]));
  CHECK(events_of(first, "merged").size() == 1);

  // main: the first task's text, then the line the conflicted one added.
  CHECK(show_file(f.origin, "refs/heads/main", "shared.txt") ==
        task_text[clean] + "\n" + task_text[conflicted]);
  CHECK(commits_touching(f.origin, "shared.txt").size() == 2);

  // No disagreement: nobody disagreed.
  auto log = f.admin.request("GET", "/v1/disagreements?status=all");
  REQUIRE(log.status == 200);
  CHECK(log.body["disagreements"].empty());
  CHECK(invariant_problems(f.db.url()).empty());
}
