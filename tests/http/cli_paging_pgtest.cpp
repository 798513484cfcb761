// The CLI against a real server: it reads its token from AGENTQ_TOKEN_FILE
// (issue 10, item 5) and `task list --all` follows the cursor through every
// page (issue 10, item 10).
#include <catch2/catch.hpp>

#include <fstream>
#include <set>

#include "process.hpp"
#include "support/test_database.hpp"

using namespace agentq::testing;
using json = nlohmann::json;

TEST_CASE("cli: the token from a file - and task list --all pages through every task",
          "[cli][token-file][listing]") {
  test_database db;
  server_process server(db.url());
  temp_dir dir;
  const auto token_file = (dir.path() / "admin-token").string();
  std::ofstream(token_file) << admin_token << "\n";
  const std::map<std::string, std::string> env = {{"AGENTQ_SERVER", server.url()},
                                                  {"AGENTQ_TOKEN_FILE", token_file}};

  REQUIRE(run_agentq({"repo", "add", "demo", "/tmp/agentq-demo.git"}, env).exit_code == 0);
  for (int i = 0; i < 5; ++i)
    REQUIRE(run_agentq({"task", "add", "task " + std::to_string(i), "--repo", "demo", "--body",
                        "b"},
                       env)
                .exit_code == 0);

  auto one_page = run_agentq({"task", "list", "--limit", "2", "--json"}, env);
  REQUIRE(one_page.exit_code == 0);
  CHECK(json::parse(one_page.out)["tasks"].size() == 2);
  CHECK_FALSE(json::parse(one_page.out)["next"].is_null());

  auto every = run_agentq({"task", "list", "--limit", "2", "--all", "--json"}, env);
  REQUIRE(every.exit_code == 0);
  const auto all_pages = json::parse(every.out);
  std::set<std::int64_t> ids;
  for (const auto& t : all_pages["tasks"]) ids.insert(t["id"].get<std::int64_t>());
  CHECK(ids.size() == 5);
  CHECK(all_pages["tasks"].size() == 5);
  CHECK(all_pages["next"].is_null());

  // --body is a flag of task list (and a value of task add): every body, every page.
  auto bodies = run_agentq({"task", "list", "--all", "--body", "--json"}, env);
  REQUIRE(bodies.exit_code == 0);
  const auto with_bodies = json::parse(bodies.out);
  CHECK(with_bodies["tasks"].size() == 5);
  for (const auto& t : with_bodies["tasks"]) CHECK(t["body"] == "b");

  auto table = run_agentq({"task", "list", "--limit", "2"}, env);
  CHECK(table.out.find("more: agentq task list --after") != std::string::npos);

  // Both ways at once is a usage error; a file that is not there names itself.
  auto both = run_agentq({"task", "list"}, {{"AGENTQ_SERVER", server.url()},
                                            {"AGENTQ_TOKEN", admin_token},
                                            {"AGENTQ_TOKEN_FILE", token_file}});
  CHECK(both.exit_code == 2);
  CHECK(both.err.find("AGENTQ_TOKEN_FILE") != std::string::npos);
  auto missing = run_agentq({"task", "list", "--token-file", "/nonexistent/t"},
                            {{"AGENTQ_SERVER", server.url()}});
  CHECK(missing.exit_code == 2);
  CHECK(missing.err.find("/nonexistent/t") != std::string::npos);
}
