// POST /v1/repos refuses URLs outside the allow-list (issue 10, item 11): a
// 400 naming the field and the setting that would allow it, and nothing in
// the database changes. The policy's own table is tests/unit/repo_url_policy_test.cpp.
#include <catch2/catch.hpp>

#include "handler_fixture.hpp"

using namespace agentq;
using namespace agentq::testing;
using json = nlohmann::json;

TEST_CASE("handler: repository URLs outside the allow-list are 400 and change nothing",
          "[handler][repo-urls]") {
  handler_fixture f;  // roots: the test directories (AGENTQ_REPO_ROOTS of the tests)
  struct row {
    std::string url;
    std::string names;
  };
  const std::vector<row> table = {
      {"/etc", "AGENTQ_REPO_ROOTS"},
      {"file:///", "AGENTQ_REPO_ROOTS"},
      {"/tmp/../etc/x.git", "AGENTQ_REPO_ROOTS"},
      {"http://169.254.169.254/latest/meta-data/", "AGENTQ_ALLOW_PRIVATE_REPO_HOSTS"},
      {"https://localhost:9000/app.git", "AGENTQ_ALLOW_PRIVATE_REPO_HOSTS"},
      {"git@localhost:app.git", "AGENTQ_ALLOW_PRIVATE_REPO_HOSTS"},
  };
  const auto before = f.fingerprint();
  for (const auto& r : table) {
    auto answer = f.call("POST", "/v1/repos", handler_admin_token,
                         {{"name", "refused"}, {"url", r.url}});
    INFO(r.url << " -> " << answer.reply.body);
    CHECK(answer.reply.status == 400);
    const auto error = json::parse(answer.reply.body)["error"];
    CHECK(error["code"] == "invalid_request");
    CHECK(error["message"].get<std::string>().find(r.names) != std::string::npos);
  }
  CHECK(f.fingerprint() == before);
  // Under a root and on a public host it is accepted.
  CHECK(f.call("POST", "/v1/repos", handler_admin_token,
               {{"name", "local"}, {"url", "/tmp/agentq-accepted.git"}})
            .reply.status == 201);
  CHECK(f.call("POST", "/v1/repos", handler_admin_token,
               {{"name", "hosted"}, {"url", "https://github.com/acme/app.git"}})
            .reply.status == 201);
}
