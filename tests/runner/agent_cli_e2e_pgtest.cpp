// The real agent CLIs through the runners (issue 15): agentq serve, a bare
// repository, agentq-worker / agentq-reviewer running the scripts/agents
// wrappers against the pinned Claude Code, Codex CLI and Gemini CLI with no
// credentials (tests/agents/no_credentials.sh), and a fleet whose agent
// cannot run: it must say why and stop claiming without using up the tasks'
// attempts, and an agent that could not run records no disagreement.
#include <csignal>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "e2e_support.hpp"

using namespace agentq::testing;
using nlohmann::json;

namespace {

// Every CLI call under a deadline (--task-timeout), quick polls, and an
// unhealthy runner that waits long before probing again (the tests look at
// what it did before that).
std::vector<std::string> health_flags(const std::string& unhealthy_after) {
  return {"--wait-s", "1", "--task-timeout", "120", "--unhealthy-after", unhealthy_after,
          "--unhealthy-backoff-s", "3600"};
}

// The wrapper run against the pinned CLIs, with no credentials of this machine.
std::string no_credentials(const e2e_fixture& f, const std::string& wrapper) {
  return "sh " + quote(std::string(AGENTQ_AGENT_TESTS_DIR) + "/no_credentials.sh") + " " +
         quote(AGENTQ_AGENT_CLI_DIR) + " sh " + quote(f.scripts() + "/" + wrapper);
}

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

json runner_status(e2e_fixture& f, const std::string& name) {
  auto r = f.admin.request("GET", "/v1/agents");
  REQUIRE(r.status == 200);
  for (const auto& agent : r.body["agents"])
    if (agent["name"] == name) return agent["runner"];
  FAIL("no agent " << name);
  return nullptr;
}

// The release events of a task, and their reasons.
std::vector<json> releases(e2e_fixture& f, std::int64_t id) {
  std::vector<json> out;
  const json task = f.get_task(id);  // kept: a loop over a temporary's member would dangle
  for (const auto& e : task["events"])
    if (e["kind"] == "released") out.push_back(e["detail"]);
  return out;
}

// Waits for the runner's one "cannot run" line, stops it, and answers its log.
std::string until_unhealthy(runner_process& runner) {
  bool said = eventually([&] { return runner.log().find("event=agent_unavailable") !=
                                      std::string::npos; },
                         std::chrono::seconds(300));
  std::string log = runner.log();
  INFO(log);
  REQUIRE(said);
  runner.signal(SIGTERM);
  REQUIRE(runner.wait() == 0);
  return runner.log();
}

}  // namespace

TEST_CASE("a worker whose agent CLI has no credentials releases with the CLI's own words, pushes "
          "nothing, charges no attempt and says it is unhealthy",
          "[e2e][agent-cli]") {
  struct cli_case {
    std::string wrapper;
    std::string words;  // what the CLI says without credentials
  };
  auto c = GENERATE(cli_case{"claude-worker.sh", "Not logged in"},
                    cli_case{"codex-worker.sh", "Not logged in"},
                    cli_case{"gemini-worker.sh", "Please set an Auth method"});
  INFO(c.wrapper);
  e2e_fixture f;
  auto token = f.agent("w1", "worker");
  auto first = f.add_task("add a greeting", "Create hello.txt saying hi.");
  auto second = f.add_task("add a farewell", "Create bye.txt saying bye.");
  const auto refs_before = list_refs(f.origin);

  auto worker = f.start("worker", token, no_credentials(f, c.wrapper), health_flags("2"), "w1",
                        {{"TMPDIR", f.tmp.path().string()}});
  std::string log = until_unhealthy(*worker);
  INFO(log);

  // Every claim was given back with the CLI's words and without charging.
  std::size_t released = 0;
  for (auto id : {first, second}) {
    auto task = f.get_task(id);
    CHECK(task["task"]["state"] == "queued");
    CHECK(task["task"]["attempt"] == 0);
    CHECK(task["submissions"].empty());
    for (const auto& detail : releases(f, id)) {
      ++released;
      CHECK(detail["charge_attempt"] == false);
      CHECK(detail["reason"].get<std::string>().find(c.words) != std::string::npos);
      CHECK(detail["reason"].get<std::string>().find("attempt not charged") != std::string::npos);
    }
  }
  CHECK(released == 2);  // --unhealthy-after 2, then no claim until the backoff
  // Nothing was pushed: the origin's refs are as they were.
  CHECK(list_refs(f.origin) == refs_before);

  // One line says what to fix; the server shows the runner unhealthy, and why.
  CHECK(count(log, "event=agent_unavailable") == 1);
  CHECK(log.find("hint=\"the agent command fails before doing any work") != std::string::npos);
  auto runner = runner_status(f, "w1");
  REQUIRE(runner.is_object());
  CHECK(runner["status"] == "unhealthy");
  CHECK(runner["reason"].get<std::string>().find(c.words) != std::string::npos);
  auto listed = run_agentq({"agent", "list"},
                           {{"AGENTQ_SERVER", f.server.url()}, {"AGENTQ_TOKEN", admin_token}});
  INFO(listed.out << listed.err);
  CHECK(listed.exit_code == 0);
  CHECK(listed.out.find("unhealthy") != std::string::npos);
}

TEST_CASE("a worker whose agent program is missing stops claiming after three faults and leaves "
          "the task's attempts untouched",
          "[e2e][agent-cli]") {
  e2e_fixture f;
  auto token = f.agent("w1", "worker");
  auto id = f.add_task("anything", "Create a.txt.");
  auto worker = f.start("worker", token, "no-such-agent-cli --print", {"--wait-s", "1",
                        "--unhealthy-backoff-s", "3600"}, "w1");
  std::string log = until_unhealthy(*worker);
  INFO(log);

  auto task = f.get_task(id);
  CHECK(task["task"]["state"] == "queued");
  CHECK(task["task"]["attempt"] == 0);
  auto details = releases(f, id);
  CHECK(details.size() == 3);  // the default --unhealthy-after
  for (const auto& detail : details) {
    CHECK(detail["charge_attempt"] == false);
    CHECK(detail["reason"].get<std::string>().find("exit code 127") != std::string::npos);
  }
  CHECK(count(log, "event=agent_unavailable") == 1);
  CHECK(log.find("cannot find or run the command") != std::string::npos);
  auto runner = runner_status(f, "w1");
  REQUIRE(runner.is_object());
  CHECK(runner["status"] == "unhealthy");
  CHECK(runner["reason"].get<std::string>().find("no-such-agent-cli") != std::string::npos);
}

TEST_CASE("a reviewer whose agent CLI has no credentials releases the review with no verdict "
          "and no disagreement is recorded",
          "[e2e][agent-cli]") {
  struct cli_case {
    std::string wrapper;
    std::string words;
  };
  auto c = GENERATE(cli_case{"claude-reviewer.sh", "Not logged in"},
                    cli_case{"codex-reviewer.sh", "Not logged in"},
                    cli_case{"gemini-reviewer.sh", "Please set an Auth method"});
  INFO(c.wrapper);
  e2e_fixture f;
  auto worker_token = f.agent("w1", "worker");
  auto reviewer_token = f.agent("r1", "reviewer");
  auto id = f.add_task("a change", "create docs/a.txt alpha\n");
  auto worker = f.start("worker", worker_token, f.example_worker(),
                        {"--wait-s", "1", "--max-tasks", "1"}, "w1");
  REQUIRE(worker->wait() == 0);
  REQUIRE(f.state(id) == "awaiting_review");

  auto reviewer = f.start("reviewer", reviewer_token, no_credentials(f, c.wrapper),
                          health_flags("2"), "r1", {{"TMPDIR", f.tmp.path().string()}});
  std::string log = until_unhealthy(*reviewer);
  INFO(log);

  auto task = f.get_task(id);
  CHECK(task["task"]["state"] == "awaiting_review");
  CHECK(task["reviews"].empty());
  CHECK(task["feedback"].empty());
  auto details = releases(f, id);
  REQUIRE(details.size() == 2);
  for (const auto& detail : details)
    CHECK(detail["reason"].get<std::string>().find(c.words) != std::string::npos);
  auto disagreements = f.admin.request("GET", "/v1/disagreements?status=all");
  REQUIRE(disagreements.status == 200);
  CHECK(disagreements.body["disagreements"].empty());
  auto runner = runner_status(f, "r1");
  REQUIRE(runner.is_object());
  CHECK(runner["status"] == "unhealthy");
}

TEST_CASE("an unhealthy worker probes after its backoff and is healthy again once its agent "
          "runs",
          "[e2e][agent-cli]") {
  e2e_fixture f;
  auto token = f.agent("w1", "worker");
  auto id = f.add_task("a change", "create docs/a.txt alpha\n");
  // "Not logged in" until the test logs it in (creates the file).
  std::string agent = "if [ -f \"$AGENTQ_TEST_DIR/logged-in\" ]; then " + f.example_worker() +
                      "; else echo 'Not logged in · Please run /login'; exit 1; fi";
  auto worker = f.start("worker", token, agent,
                        {"--wait-s", "1", "--unhealthy-after", "2", "--unhealthy-backoff-s", "1",
                         "--unhealthy-backoff-max-s", "2"},
                        "w1");
  REQUIRE(eventually([&] { return worker->log().find("event=agent_unavailable") !=
                                  std::string::npos; }));
  CHECK(runner_status(f, "w1")["status"] == "unhealthy");
  write_text(f.tmp / "logged-in", "yes\n");
  REQUIRE(eventually([&] { return f.state(id) == "awaiting_review"; }));
  REQUIRE(eventually([&] { return runner_status(f, "w1")["status"] == "healthy"; }));
  worker->signal(SIGTERM);
  REQUIRE(worker->wait() == 0);
  std::string log = worker->log();
  INFO(log);
  CHECK(log.find("event=probe") != std::string::npos);
  CHECK(log.find("event=agent_available") != std::string::npos);
  // Only the faults were given back, none of them charged: the one attempt
  // the task used is the one that did the work.
  auto task = f.get_task(id);
  CHECK(task["task"]["attempt"] == 1);
  for (const auto& detail : releases(f, id)) CHECK(detail["charge_attempt"] == false);
}

TEST_CASE("release with charge_attempt false gives the attempt back until the cap and is refused "
          "when malformed",
          "[e2e][agent-cli]") {
  e2e_fixture f({"--retry-backoff-s", "0"});  // each release claimable again at once
  agentq::http_client worker(f.server.url(), f.agent("w1", "worker"));
  auto id = f.add_task("a change", "anything");
  auto claim = [&] {
    auto r = worker.request("POST", "/v1/claims", json{{"wait_s", 0}});
    INFO(r.raw_body);
    REQUIRE(r.status == 200);
    REQUIRE(r.body["task"]["id"] == id);
    return r.body["claim"]["token"].get<std::int64_t>();
  };
  const std::string release = "/v1/tasks/" + std::to_string(id) + "/release";

  // Refusals: 400 naming the field, nothing changed (the claim still holds).
  auto token = claim();
  struct refusal {
    json body;
    std::string field;
  };
  const std::vector<refusal> refusals = {
      {json{{"token", token}, {"charge_attempt", "no"}}, "charge_attempt"},
      {json{{"token", token}, {"charge_attempt", false}, {"retry", false}}, "charge_attempt"}};
  for (const auto& bad : refusals) {
    auto r = worker.request("POST", release, bad.body);
    INFO(bad.body.dump() << " -> " << r.raw_body);
    CHECK(r.status == 400);
    CHECK(r.raw_body.find(bad.field) != std::string::npos);
    CHECK(f.state(id) == "working");
  }
  const std::vector<json> bad_statuses = {json{{"status", "sick"}},
                                          json{{"status", "healthy"}, {"reason", 5}},
                                          json{{"reason", "x"}},
                                          json{{"status", "healthy"}, {"extra", 1}}};
  for (const auto& bad : bad_statuses) {
    auto r = worker.request("POST", "/v1/agents/me/status", bad);
    INFO(bad.dump() << " -> " << r.raw_body);
    CHECK(r.status == 400);
  }
  CHECK(f.admin.request("POST", "/v1/agents/me/status", json{{"status", "healthy"}}).status == 403);

  // Up to the cap, each uncharged release gives the attempt back.
  const int cap = 10;
  for (int i = 0; i < cap; ++i) {
    if (i > 0) token = claim();
    auto r = worker.request("POST", release,
                            json{{"token", token}, {"reason", "no login"}, {"charge_attempt", false}});
    INFO(r.raw_body);
    REQUIRE(r.status == 200);
    CHECK(r.body["charged_attempt"] == false);
    CHECK(r.body["task"]["attempt"] == 0);
    CHECK(r.body["state"] == "queued");
  }
  // Past it, the release is charged like any other (a runner cannot hold a
  // task's attempts back for ever).
  token = claim();
  auto r = worker.request("POST", release,
                          json{{"token", token}, {"reason", "no login"}, {"charge_attempt", false}});
  INFO(r.raw_body);
  REQUIRE(r.status == 200);
  CHECK(r.body["charged_attempt"] == true);
  CHECK(r.body["task"]["attempt"] == 1);
}
