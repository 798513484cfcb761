// The agentq CLI as a real process against a real server: output and exit
// codes that scripts rely on (0 ok, 1 refused, 2 usage, 3 unreachable).
#include <catch2/catch.hpp>

#include "core/requests.hpp"
#include "http_client.hpp"
#include "process.hpp"
#include "support/test_database.hpp"

using namespace agentq;
using namespace agentq::testing;
using nlohmann::json;

namespace {

std::map<std::string, std::string> env_for(const server_process& server,
                                           const std::string& token = admin_token) {
  return {{"AGENTQ_SERVER", server.url()}, {"AGENTQ_TOKEN", token}};
}

}  // namespace

TEST_CASE("cli: --help everywhere - usage errors exit 2", "[cli]") {
  auto help = run_agentq({"--help"});
  CHECK(help.exit_code == 0);
  CHECK(help.out.find("agentq migrate") != std::string::npos);
  CHECK(help.out.find("agentq serve") != std::string::npos);
  for (const char* noun : {"task", "agent", "repo", "disagreements", "serve", "migrate"}) {
    auto r = run_agentq({noun, "--help"});
    INFO(noun);
    CHECK(r.exit_code == 0);
    CHECK(r.out.find("Usage: agentq " + std::string(noun)) != std::string::npos);
  }
  auto unknown = run_agentq({"frobnicate"});
  CHECK(unknown.exit_code == 2);
  CHECK(unknown.err.find("unknown command") != std::string::npos);
  auto missing = run_agentq({"agent", "add", "x"}, {{"AGENTQ_TOKEN", "t"}});
  CHECK(missing.exit_code == 2);
  CHECK(missing.err.find("--role") != std::string::npos);
}

TEST_CASE("cli: an unreachable server exits 3", "[cli]") {
  auto r = run_agentq({"task", "list"}, {{"AGENTQ_SERVER", "http://127.0.0.1:1"},
                                         {"AGENTQ_TOKEN", "x"}});
  CHECK(r.exit_code == 3);
  CHECK(r.err.find("AGENTQ_SERVER") != std::string::npos);
}

TEST_CASE("cli: repos and agents and tasks through a real server", "[cli]") {
  test_database db;
  server_process server(db.url());
  auto env = env_for(server);

  auto repo = run_agentq({"repo", "add", "demo", "/tmp/agentq-demo.git", "--base-branch", "main"},
                         env);
  REQUIRE(repo.exit_code == 0);
  auto repos = run_agentq({"repo", "list", "--json"}, env);
  REQUIRE(repos.exit_code == 0);
  CHECK(json::parse(repos.out)["repos"][0]["name"] == "demo");

  // agent add --json prints exactly {name, role, token}, and the token works
  auto agent = run_agentq({"agent", "add", "w1", "--role", "worker", "--json"}, env);
  REQUIRE(agent.exit_code == 0);
  auto made = json::parse(agent.out);
  CHECK(made.size() == 3);
  CHECK(made["name"] == "w1");
  CHECK(made["role"] == "worker");
  const auto token = made["token"].get<std::string>();
  http_client as_worker(server.url(), token);
  CHECK(as_worker.request("GET", "/v1/tasks").status == 200);
  auto again = run_agentq({"agent", "add", "w1", "--role", "worker"}, env);
  CHECK(again.exit_code == 1);
  CHECK(again.err.find("duplicate") != std::string::npos);

  auto added = run_agentq({"task", "add", "Fix the parser", "--repo", "demo", "--body", "it breaks",
                           "--priority", "3", "--label", "bug", "--json"},
                          env);
  REQUIRE(added.exit_code == 0);
  const auto id = json::parse(added.out)["task"]["id"].get<std::int64_t>();
  auto listed = run_agentq({"task", "list", "--json"}, env);
  REQUIRE(listed.exit_code == 0);
  auto tasks = json::parse(listed.out)["tasks"];
  REQUIRE(tasks.size() == 1);
  CHECK(tasks[0]["id"] == id);
  CHECK(tasks[0]["priority"] == 3);
  CHECK(tasks[0]["labels"] == json::array({"bug"}));
  auto table = run_agentq({"task", "list"}, env);
  CHECK(table.exit_code == 0);
  CHECK(table.out.find("Fix the parser") != std::string::npos);
  CHECK(table.out.find("queued") != std::string::npos);
  auto shown = run_agentq({"task", "show", std::to_string(id)}, env);
  CHECK(shown.exit_code == 0);
  CHECK(shown.out.find("it breaks") != std::string::npos);

  // refusals exit 1 with the contract's code
  auto no_task = run_agentq({"task", "show", "424242"}, env);
  CHECK(no_task.exit_code == 1);
  CHECK(no_task.err.find("not_found") != std::string::npos);
  auto wrong_token = run_agentq({"task", "list"}, env_for(server, "not-a-token"));
  CHECK(wrong_token.exit_code == 1);
  CHECK(wrong_token.err.find("unauthenticated") != std::string::npos);
  auto as_worker_cli = run_agentq({"task", "add", "x", "--repo", "demo"}, env_for(server, token));
  CHECK(as_worker_cli.exit_code == 1);
  CHECK(as_worker_cli.err.find("forbidden") != std::string::npos);

  auto cancelled = run_agentq({"task", "cancel", std::to_string(id), "--reason", "dup"}, env);
  CHECK(cancelled.exit_code == 0);
  CHECK(cancelled.out.find("cancelled") != std::string::npos);
  auto requeued = run_agentq({"task", "requeue", std::to_string(id), "--json"}, env);
  CHECK(requeued.exit_code == 0);
  CHECK(json::parse(requeued.out)["state"] == "queued");

  auto revoked = run_agentq({"agent", "revoke", "w1"}, env);
  CHECK(revoked.exit_code == 0);
  CHECK(as_worker.request("GET", "/v1/tasks").status == 401);
  auto agents = run_agentq({"agent", "list", "--json"}, env);
  CHECK(json::parse(agents.out)["agents"][0]["revoked_at"].is_string());
}

TEST_CASE("cli: disagreements list shows open entries as a table - show and resolve", "[cli]") {
  test_database db;
  server_process server(db.url());
  auto env = env_for(server);
  repo_on_disk repo;
  http_client admin(server.url(), admin_token);
  REQUIRE(admin.request("POST", "/v1/repos", {{"name", "demo"}, {"url", repo.bare}}).status ==
          201);
  auto id = admin.request("POST", "/v1/tasks",
                          {{"title", "Add a parser test"}, {"body", "b"}, {"repo", "demo"}})
                .body["task"]["id"]
                .get<std::int64_t>();
  http_client worker(server.url(), make_agent(server.url(), "w1", "worker"));
  http_client reviewer(server.url(), make_agent(server.url(), "r1", "reviewer"));
  auto claim = worker.request("POST", "/v1/claims", json::object());
  REQUIRE(claim.status == 200);
  auto token = claim.body["claim"]["token"].get<std::int64_t>();
  REQUIRE(worker
              .request("POST", "/v1/tasks/" + std::to_string(id) + "/submit",
                       {{"token", token},
                        {"branch", claim_branch(id, token)},
                        {"commit", repo.push(claim_branch(id, token), "a test")},
                        {"summary", "Added the test\nsecond line of summary"}})
              .status == 200);
  auto review = reviewer.request("POST", "/v1/claims", json::object());
  REQUIRE(review.status == 200);
  auto rejected = reviewer.request("POST", "/v1/tasks/" + std::to_string(id) + "/review",
                                   {{"token", review.body["claim"]["token"]},
                                    {"verdict", "reject"},
                                    {"reasons", "The test does not fail before the fix\nmore"}});
  REQUIRE(rejected.status == 200);
  const auto did = rejected.body["disagreement_id"].get<std::int64_t>();

  auto table = run_agentq({"disagreements", "list"}, env);
  REQUIRE(table.exit_code == 0);
  CHECK(table.out.find("Add a parser test") != std::string::npos);
  CHECK(table.out.find("w1") != std::string::npos);
  CHECK(table.out.find("r1") != std::string::npos);
  CHECK(table.out.find("Added the test") != std::string::npos);
  CHECK(table.out.find("second line") == std::string::npos);  // first lines only
  CHECK(table.out.find("The test does not fail") != std::string::npos);

  auto shown = run_agentq({"disagreements", "show", std::to_string(did)}, env);
  CHECK(shown.exit_code == 0);
  CHECK(shown.out.find("second line of summary") != std::string::npos);  // in full
  CHECK(shown.out.find("before the fix\nmore") != std::string::npos);

  auto resolved = run_agentq({"disagreements", "resolve", std::to_string(did), "--decision",
                              "reviewer_right", "--note", "fair"},
                             env);
  CHECK(resolved.exit_code == 0);
  auto open = run_agentq({"disagreements", "list", "--json"}, env);
  CHECK(json::parse(open.out)["disagreements"].empty());
  auto twice = run_agentq({"disagreements", "resolve", std::to_string(did), "--decision",
                           "worker_right", "--note", "changed my mind"},
                          env);
  CHECK(twice.exit_code == 1);
  CHECK(twice.err.find("invalid_state") != std::string::npos);

  // the agreement table (issue 11): the same numbers as GET /v1/agreement
  auto stats = run_agentq({"disagreements", "stats"}, env);
  REQUIRE(stats.exit_code == 0);
  for (const char* heading : {"WORKER", "REVIEWER", "REPOSITORY", "FIRST TIME", "REVIEWER RIGHT"})
    CHECK(stats.out.find(heading) != std::string::npos);
  CHECK(stats.out.find("w1") != std::string::npos);
  CHECK(stats.out.find("r1") != std::string::npos);
  auto stats_json = run_agentq({"disagreements", "stats", "--json"}, env);
  REQUIRE(stats_json.exit_code == 0);
  CHECK(json::parse(stats_json.out) == admin.request("GET", "/v1/agreement").body);
  CHECK(json::parse(stats_json.out)["reviewers"][0]["reviewer_right"] == 1);
}
