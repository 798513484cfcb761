// agentq-reviewer end to end, with agentq-worker: the real review loop —
// reject with reasons, feedback in the next attempt's task file, approve,
// merge (issue 5, the runner half).
#include <filesystem>

#include <catch2/catch.hpp>

#include "e2e_support.hpp"

using namespace agentq::testing;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {
const std::vector<std::string> quick = {"--wait-s", "2", "--idle-exit", "90"};
std::vector<std::string> with(std::vector<std::string> extra) {
  extra.insert(extra.end(), quick.begin(), quick.end());
  return extra;
}
}  // namespace

TEST_CASE("a rejected task is fixed from the feedback in its task file - then approved and "
          "merged", "[e2e][reviewer]") {
  e2e_fixture f;
  auto worker_token = f.agent("worker-1", "worker");
  auto reviewer_token = f.agent("reviewer-1", "reviewer");
  auto picky = f.add_task("alpha", "create docs/a.txt alpha\n", json::array({"reject-once"}));
  auto easy = f.add_task("beta", "create docs/b.txt beta\n");

  // The worker's agent keeps a copy of every task file it is given.
  std::string agent = "mkdir -p \"$AGENTQ_TEST_DIR/taskfiles\" && "
                      "cp \"$AGENTQ_TASK_FILE\" \"$AGENTQ_TEST_DIR/taskfiles/$AGENTQ_TASK_ID-"
                      "$(ls \"$AGENTQ_TEST_DIR/taskfiles\" | wc -l).json\" && " + f.example_worker();
  auto worker = f.start("worker", worker_token, agent, with({"--max-tasks", "3"}), "w1");
  auto reviewer = f.start("reviewer", reviewer_token, f.example_reviewer(),
                          with({"--max-tasks", "3"}), "r1");
  REQUIRE(worker->wait() == 0);
  REQUIRE(reviewer->wait() == 0);
  INFO(worker->log() << "\n" << reviewer->log());

  auto a = f.get_task(picky);
  auto b = f.get_task(easy);
  CHECK(a["task"]["state"] == "done");
  CHECK(b["task"]["state"] == "done");
  // alpha: rejected once with the reviewer's words, then approved.
  REQUIRE(a["reviews"].size() == 2);
  CHECK(a["reviews"][0]["verdict"] == "reject");
  CHECK(a["reviews"][0]["reviewer"] == "reviewer-1");
  CHECK(a["reviews"][0]["reasons"].get<std::string>().find("REQUEST: create changes/") !=
        std::string::npos);
  CHECK(a["reviews"][1]["verdict"] == "approve");
  REQUIRE(b["reviews"].size() == 1);
  CHECK(b["reviews"][0]["verdict"] == "approve");

  // The second attempt's task file carried the first round's reasons.
  std::vector<json> files;
  for (const auto& entry : fs::directory_iterator(f.tmp / "taskfiles"))
    if (entry.path().filename().string().rfind(std::to_string(picky) + "-", 0) == 0)
      files.push_back(json::parse(read_text(entry.path())));
  REQUIRE(files.size() == 2);
  std::sort(files.begin(), files.end(), [](const json& x, const json& y) {
    return x["token"].get<std::int64_t>() < y["token"].get<std::int64_t>();
  });
  CHECK(files[0]["feedback"].empty());
  REQUIRE(files[1]["feedback"].size() == 1);
  CHECK(files[1]["feedback"][0]["text"] == a["reviews"][0]["reasons"]);
  CHECK(files[1]["task"]["body"] == "create docs/a.txt alpha\n");

  // The base branch holds both changes and the fix, each once.
  CHECK(show_file(f.origin, "refs/heads/main", "docs/a.txt") == "alpha");
  CHECK(show_file(f.origin, "refs/heads/main", "docs/b.txt") == "beta");
  CHECK(show_file(f.origin, "refs/heads/main", "changes/" + std::to_string(picky) + ".md") ==
        "Documented change for task " + std::to_string(picky));
  // One disagreement, for alpha, with the reviewer's words.
  auto log = f.admin.request("GET", "/v1/disagreements?status=all");
  REQUIRE(log.status == 200);
  REQUIRE(log.body["disagreements"].size() == 1);
  CHECK(log.body["disagreements"][0]["task_id"] == picky);
  CHECK(log.body["disagreements"][0]["reasons"] == a["reviews"][0]["reasons"]);
}

TEST_CASE("a review command that neither approves nor rejects releases the review", "[e2e][reviewer]") {
  e2e_fixture f;
  auto worker_token = f.agent("worker-1", "worker");
  auto reviewer_token = f.agent("reviewer-1", "reviewer");
  auto id = f.add_task("gamma", "create g.txt gamma\n");
  auto worker = f.start("worker", worker_token, f.example_worker(), with({"--max-tasks", "1"}), "w1");
  REQUIRE(worker->wait() == 0);
  REQUIRE(f.state(id) == "awaiting_review");

  // The review command sees the submission and its diff stats, then gives up.
  std::string confused = "jq -e '.submission.commit and .diff_stats.files_changed == 1' "
                         "\"$AGENTQ_TASK_FILE\" > \"$AGENTQ_TEST_DIR/seen\" && "
                         "git rev-parse HEAD > \"$AGENTQ_TEST_DIR/head\"; echo confused; exit 2";
  auto reviewer = f.start("reviewer", reviewer_token, confused, with({"--max-tasks", "1"}), "r1");
  REQUIRE(reviewer->wait() == 0);
  INFO(reviewer->log());
  auto answer = f.get_task(id);
  CHECK(answer["task"]["state"] == "awaiting_review");
  CHECK(answer["reviews"].empty());
  CHECK(read_text(f.tmp / "seen") == "true\n");
  CHECK(read_text(f.tmp / "head") == answer["submissions"][0]["commit"].get<std::string>() + "\n");
  json released;
  for (const auto& e : answer["events"])
    if (e["kind"] == "released") released = e;
  REQUIRE_FALSE(released.is_null());
  CHECK(released["detail"]["reason"].get<std::string>().find("exit code 2") != std::string::npos);
}

TEST_CASE("a worker's token cannot review (exit 4) but another identity reviews and approves", "[e2e][reviewer]") {
  e2e_fixture f;
  // One identity may only have one role, so the check is the server's: a
  // worker token cannot claim as a reviewer at all, and the reviewer of a
  // task is always another agent than its worker.
  auto worker_token = f.agent("worker-1", "worker");
  auto reviewer_token = f.agent("reviewer-1", "reviewer");
  auto id = f.add_task("delta", "create d.txt delta\n");
  // A reviewer runner started with a worker's token learns its role from
  // GET /v1/whoami and stops with exit 4 before it claims anything.
  auto as_reviewer = f.start("reviewer", worker_token, "exit 0", with({"--max-tasks", "1"}), "r0");
  CHECK(as_reviewer->wait() == 4);
  INFO(as_reviewer->log());
  CHECK(as_reviewer->log().find("wrong_role") != std::string::npos);
  auto given_back = f.get_task(id);
  CHECK(given_back["task"]["state"] == "queued");
  CHECK(given_back["submissions"].empty());
  auto worker = f.start("worker", worker_token, f.example_worker(), with({"--max-tasks", "1"}), "w1");
  REQUIRE(worker->wait() == 0);
  auto reviewer = f.start("reviewer", reviewer_token, f.example_reviewer(),
                          with({"--max-tasks", "1"}), "r1");
  REQUIRE(reviewer->wait() == 0);
  auto answer = f.get_task(id);
  CHECK(answer["task"]["state"] == "done");
  CHECK(answer["reviews"][0]["reviewer"] != answer["submissions"][0]["worker"]);
}
