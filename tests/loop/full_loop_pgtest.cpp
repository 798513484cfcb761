// The whole loop (issue 5): a real server, three agentq-workers and one
// agentq-reviewer running the scripted example agents on twelve tasks, a
// third of which the reviewer rejects once. Every task must end done with its
// change on the base branch exactly once, every rejection must be in the
// disagreement log with the reviewer's words, and nobody may review its own
// work. A second run spreads a larger fleet — two reviewers among them — over
// two servers on one database.
#include <algorithm>
#include <csignal>
#include <map>
#include <set>

#include <catch2/catch.hpp>

#include "e2e_support.hpp"
#include "loop_support.hpp"

using namespace agentq::testing;
using nlohmann::json;

namespace {

struct planned_task {
  std::int64_t id = 0;
  bool reject_once = false;
  std::string path;
  std::string text;
};

// "state count  state count ..." of the tasks, for failure messages.
std::string state_counts(const json& tasks) {
  std::map<std::string, int> counts;
  for (const auto& t : tasks) ++counts[t["state"].get<std::string>()];
  std::string out;
  for (const auto& [state, n] : counts) out += state + " " + std::to_string(n) + "  ";
  return out;
}

// Runs `task_count` tasks (every third labelled reject-once) through the example
// agents: `workers` agentq-workers and `reviewers` agentq-reviewers, spread
// round-robin over the fixture's server and `extra_servers` more on the same
// database. Then checks everything the loop promises.
void run_fleet(int task_count, int workers, int reviewers, int extra_servers) {
  e2e_fixture f({"--retry-backoff-s", "1"});
  std::vector<std::unique_ptr<server_process>> more;
  for (int i = 0; i < extra_servers; ++i)
    more.push_back(std::make_unique<server_process>(
        f.db.url(), std::vector<std::string>{"--retry-backoff-s", "1"}));
  std::vector<std::string> urls = {f.server.url()};
  for (const auto& server : more) urls.push_back(server->url());

  struct member {
    std::string name, role, token;
  };
  std::vector<member> members;
  for (int i = 1; i <= workers; ++i) {
    const auto name = "worker-" + std::to_string(i);
    members.push_back({name, "worker", f.agent(name, "worker")});
  }
  std::set<std::string> reviewer_names;
  for (int i = 1; i <= reviewers; ++i) {
    const auto name = "reviewer-" + std::to_string(i);
    reviewer_names.insert(name);
    members.push_back({name, "reviewer", f.agent(name, "reviewer")});
  }

  std::vector<planned_task> plan;
  for (int i = 1; i <= task_count; ++i) {
    planned_task t;
    t.reject_once = i % 3 == 0;
    t.path = "features/feature-" + std::to_string(i) + ".txt";
    t.text = "feature " + std::to_string(i) + " works";
    t.id = f.add_task("feature " + std::to_string(i), "create " + t.path + " " + t.text + "\n",
                      t.reject_once ? json::array({"reject-once"}) : json::array());
    plan.push_back(t);
  }

  // Runners as tests/runner's e2e_fixture starts them, each on its server.
  std::vector<std::unique_ptr<runner_process>> fleet;
  for (std::size_t i = 0; i < members.size(); ++i) {
    const auto& m = members[i];
    const bool worker = m.role == "worker";
    const std::map<std::string, std::string> env = {
        {"AGENTQ_SERVER", urls[i % urls.size()]},
        {"AGENTQ_TOKEN", m.token},
        {worker ? "AGENTQ_AGENT_CMD" : "AGENTQ_REVIEW_CMD",
         worker ? f.example_worker() : f.example_reviewer()},
        {"AGENTQ_WORKDIR", (f.tmp / ("work-" + m.name)).string()},
    };
    fleet.push_back(std::make_unique<runner_process>(
        worker ? AGENTQ_WORKER_BINARY : AGENTQ_REVIEWER_BINARY,
        std::vector<std::string>{"--wait-s", "2"}, env, f.tmp / (m.name + ".log")));
  }

  json tasks;
  const bool all_done = wait_until(
      [&] {
        auto r = f.admin.request("GET", "/v1/tasks?limit=100");
        if (r.status != 200) return false;
        tasks = r.body["tasks"];
        return tasks.size() == plan.size() &&
               std::all_of(tasks.begin(), tasks.end(),
                           [](const json& t) { return t["state"] == "done"; });
      },
      std::chrono::seconds(400));
  // SIGTERM: a runner stops cleanly (exit 0) even while it long-polls.
  for (auto& runner : fleet) runner->signal(SIGTERM);
  std::string logs;
  for (auto& runner : fleet) {
    const int status = runner->wait(std::chrono::seconds(60));
    CHECK(status == 0);
    if (status != 0 || !all_done) logs += runner->log() + "\n-----\n";
  }
  INFO("tasks: " << state_counts(tasks) << "\nrunner logs:\n" << logs << "\nserver log:\n"
                 << (all_done ? std::string() : f.server.log()));
  const std::size_t rejected = plan.size() / 3;
  REQUIRE(all_done);

  auto disagreements = f.admin.request("GET", "/v1/disagreements?status=all");
  REQUIRE(disagreements.status == 200);
  std::map<std::int64_t, std::vector<json>> disagreements_of;
  for (const auto& d : disagreements.body["disagreements"])
    disagreements_of[d["task_id"].get<std::int64_t>()].push_back(d);

  for (const auto& t : plan) {
    auto answer = f.get_task(t.id);
    INFO("task " << t.id << (t.reject_once ? " (reject-once)" : "") << ": " << answer.dump(2));
    CHECK(answer["task"]["state"] == "done");

    // The change is on main, brought in by exactly one commit; the approved
    // submission is reachable from main and a rejected one is not.
    CHECK(show_file(f.origin, "refs/heads/main", t.path) == t.text);
    CHECK(commits_touching(f.origin, t.path).size() == 1);
    const auto& submissions = answer["submissions"];
    REQUIRE(submissions.size() == (t.reject_once ? 2u : 1u));
    CHECK(reachable(f.origin, submissions.back()["commit"]));
    if (t.reject_once) {
      CHECK_FALSE(reachable(f.origin, submissions.front()["commit"]));
      const std::string note = "changes/" + std::to_string(t.id) + ".md";
      CHECK(show_file(f.origin, "refs/heads/main", note) ==
            "Documented change for task " + std::to_string(t.id));
      CHECK(commits_touching(f.origin, note).size() == 1);
    }
    CHECK(events_of(answer, "merged").size() == 1);

    // Reviews: a rejection (for reject-once tasks), then one approval.
    const auto& reviews = answer["reviews"];
    REQUIRE(reviews.size() == (t.reject_once ? 2u : 1u));
    if (t.reject_once) CHECK(reviews[0]["verdict"] == "reject");
    CHECK(reviews.back()["verdict"] == "approve");

    // The disagreement log: one entry per rejection, with the reviewer's words.
    const auto& entries = disagreements_of[t.id];
    if (t.reject_once) {
      REQUIRE(entries.size() == 1);
      const auto& d = entries[0];
      CHECK(d["reasons"].get<std::string>().rfind(
                "The change works, but it is not documented", 0) == 0);
      CHECK(d["reasons"] == reviews[0]["reasons"]);
      CHECK(reviewer_names.count(d["reviewer"].get<std::string>()) == 1);
      CHECK(d["reviewer"] == reviews[0]["reviewer"]);
      CHECK(d["worker"] == submissions[0]["worker"]);
      CHECK(d["commit"] == submissions[0]["commit"]);
      CHECK(d["status"] == "open");
    } else {
      CHECK(entries.empty());
    }

    // Separation of duties, on the data: nobody who worked on the task
    // (claimed it as a worker or submitted) reviewed it.
    std::set<std::string> workers, reviewers;
    for (const auto& s : submissions) workers.insert(s["worker"].get<std::string>());
    for (const auto& c : answer["claims"])
      (c["role"] == "worker" ? workers : reviewers).insert(c["agent"].get<std::string>());
    for (const auto& r : reviews) reviewers.insert(r["reviewer"].get<std::string>());
    CHECK_FALSE(workers.empty());
    CHECK_FALSE(reviewers.empty());
    for (const auto& name : reviewers) CHECK(workers.count(name) == 0);
  }
  CHECK(disagreements.body["disagreements"].size() == rejected);

  // No change twice: the seed plus one commit per task on main (merge
  // commits aside).
  CHECK(git_lines(f.origin, "rev-list --no-merges refs/heads/main").size() == 1 + plan.size());

  auto problems = invariant_problems(f.db.url());
  INFO([&] {
    std::string text;
    for (const auto& p : problems) text += p + "\n";
    return text;
  }());
  CHECK(problems.empty());
}

}  // namespace

TEST_CASE("twelve tasks - three workers - one reviewer - a third rejected once: all done and "
          "each change lands once", "[loop]") {
  run_fleet(12, 3, 1, 0);
}

TEST_CASE("fifteen tasks - four workers and two reviewers over two servers: all done and each "
          "change lands once", "[loop]") {
  run_fleet(15, 4, 2, 1);
}
