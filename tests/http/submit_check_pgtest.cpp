// Submit checks the commit against the repository (docs/api.md §5): a commit
// that is not the tip of the claim's branch is refused, and only the live
// holder's submit costs a fetch. Real bare repository on disk, real gateway.
#include <catch2/catch.hpp>

#include <cstdlib>

#include <pqxx/pqxx>

#include "core/requests.hpp"
#include "git/repo_gateway.hpp"
#include "handler_fixture.hpp"
#include "process.hpp"

using namespace agentq;
using namespace agentq::testing;
using nlohmann::json;


TEST_CASE("handler: submit refuses a commit that is not the tip of the claim's branch",
          "[handler][git]") {
  repo_on_disk repo;
  temp_dir cache;
  git::repo_gateway gateway(cache.path());
  handler_fixture f;
  handler_config config;
  config.admin_token = handler_admin_token;
  f.handler = request_handler(config, handler_services{&gateway, nullptr, &f.metrics, {}});
  {
    pqxx::work tx(f.sql);
    tx.exec_params("update repos set url = $1 where name = 'demo'", repo.bare);
    tx.commit();
  }
  auto id = f.add_task();
  auto token = f.claim(f.worker1)["claim"]["token"].get<std::int64_t>();
  const auto branch = claim_branch(id, token);
  const auto first = repo.push(branch, "one");
  const auto second = repo.push(branch, "two");  // the tip moved past `first`
  const std::string path = "/v1/tasks/" + std::to_string(id) + "/submit";

  auto before = f.fingerprint();
  auto old_commit = f.call("POST", path, f.worker1,
                           {{"token", token}, {"branch", branch}, {"commit", first},
                            {"summary", "x"}});
  CHECK(old_commit.reply.status == 409);
  CHECK(old_commit.reply.body.find("invalid_state") != std::string::npos);
  CHECK(old_commit.reply.body.find("not the tip") != std::string::npos);
  CHECK(f.fingerprint() == before);

  auto unknown = f.call("POST", path, f.worker1,
                        {{"token", token}, {"branch", branch}, {"commit", std::string(40, 'c')},
                         {"summary", "x"}});
  CHECK(unknown.reply.status == 409);
  CHECK(f.fingerprint() == before);

  // a stale token is refused as stale, whatever the repository holds
  auto stale = f.call("POST", "/v1/tasks/" + std::to_string(id) + "/submit", f.worker1,
                      {{"token", token + 1000},
                       {"branch", claim_branch(id, token + 1000)},
                       {"commit", second},
                       {"summary", "x"}});
  CHECK(stale.reply.status == 409);
  CHECK(stale.reply.body.find("stale_token") != std::string::npos);
  CHECK(f.fingerprint() == before);

  auto tip = f.call("POST", path, f.worker1,
                    {{"token", token}, {"branch", branch}, {"commit", second}, {"summary", "x"}});
  CHECK(tip.reply.status == 200);
  CHECK(json::parse(tip.reply.body)["state"] == "awaiting_review");
}
