#include "loop_support.hpp"

#include <functional>
#include <sstream>
#include <thread>

#include <catch2/catch.hpp>
#include <pqxx/pqxx>

#include "runner_support.hpp"
#include "store/store.hpp"

namespace agentq::testing {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {
// The git CLI only sets the scene: no user configuration may leak in.
const std::string git_env =
    "GIT_AUTHOR_NAME=loop GIT_AUTHOR_EMAIL=loop@test GIT_COMMITTER_NAME=loop "
    "GIT_COMMITTER_EMAIL=loop@test GIT_CONFIG_NOSYSTEM=1 HOME=/nonexistent ";
}  // namespace

claimed claim(http_client& client, int lease_s, std::chrono::seconds limit) {
  const auto give_up = std::chrono::steady_clock::now() + limit;
  for (;;) {
    auto r = client.request("POST", "/v1/claims", {{"wait_s", 5}, {"lease_s", lease_s}},
                            std::chrono::seconds(20));
    if (r.status == 200) {
      claimed c;
      c.task_id = r.body["task"]["id"].get<std::int64_t>();
      c.token = r.body["claim"]["token"].get<std::int64_t>();
      c.answer = r.body;
      return c;
    }
    INFO(r.raw_body);
    REQUIRE(r.status == 204);
    if (std::chrono::steady_clock::now() > give_up)
      FAIL("nothing to claim within " << limit.count() << " s");
  }
}

std::string push_change(const fs::path& origin, const fs::path& scratch, const std::string& branch,
                        const std::string& base, const std::string& path,
                        const std::string& text) {
  const fs::path clone = scratch / ("clone-" + std::to_string(std::hash<std::string>{}(branch)));
  if (!fs::exists(clone)) must(git_env + "git clone -q " + quote(origin.string()) + " " +
                               quote(clone.string()));
  const std::string git = git_env + "git -C " + quote(clone.string()) + " ";
  must(git + "fetch -q origin");
  must(git + "checkout -q --detach " + quote(base));
  fs::create_directories((clone / path).parent_path());
  write_text(clone / path, text + "\n");
  must(git + "add -A");
  must(git + "commit -q -m " + quote("write " + path));
  must(git + "push -q origin " + quote("HEAD:refs/heads/" + branch));
  return must(git + "rev-parse HEAD");
}

std::string submit_change(http_client& worker, const claimed& c, const fs::path& origin,
                          const fs::path& scratch, const std::string& base,
                          const std::string& path, const std::string& text) {
  const std::string branch =
      "agentq/" + std::to_string(c.task_id) + "/" + std::to_string(c.token);
  const std::string commit = push_change(origin, scratch, branch, base, path, text);
  auto r = worker.request("POST", "/v1/tasks/" + std::to_string(c.task_id) + "/submit",
                          {{"token", c.token},
                           {"branch", branch},
                           {"commit", commit},
                           {"summary", "wrote " + path}});
  INFO(r.raw_body);
  REQUIRE(r.status == 200);
  REQUIRE(r.body["state"] == "awaiting_review");
  return commit;
}

std::string git_in(const fs::path& origin, const std::string& args) {
  return must(git_env + "git --git-dir=" + quote(origin.string()) + " " + args);
}

std::vector<std::string> git_lines(const fs::path& origin, const std::string& args) {
  std::istringstream text(git_in(origin, args));
  std::vector<std::string> lines;
  for (std::string line; std::getline(text, line);)
    if (!line.empty()) lines.push_back(line);
  return lines;
}

bool reachable(const fs::path& origin, const std::string& commit, const std::string& ref) {
  return shell(git_env + "git --git-dir=" + quote(origin.string()) + " merge-base --is-ancestor " +
               quote(commit) + " " + quote(ref))
             .status == 0;
}

std::vector<std::string> commits_touching(const fs::path& origin, const std::string& path,
                                          const std::string& ref) {
  // --full-history: no history simplification may hide a second copy.
  return git_lines(origin, "rev-list --no-merges --full-history " + quote(ref) + " -- " +
                               quote(path));
}

std::vector<std::string> invariant_problems(const std::string& database_url) {
  return store(database_url).check_invariants();
}

std::vector<json> events_of(const json& task_answer, const std::string& kind) {
  std::vector<json> out;
  for (const auto& e : task_answer["events"])
    if (e["kind"] == kind) out.push_back(e);
  return out;
}

}  // namespace agentq::testing
