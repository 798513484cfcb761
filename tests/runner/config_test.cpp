// Flags with environment defaults (docs/api.md §2).
#include <unistd.h>

#include <cstdlib>
#include <map>

#include <catch2/catch.hpp>

#include "runner/runner_config.hpp"

using namespace agentq::runner;

namespace {

env_lookup env_of(std::map<std::string, std::string> vars) {
  return [vars](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

}  // namespace

TEST_CASE("configuration comes from the environment - flags win", "[config]") {
  auto env = env_of({{"AGENTQ_SERVER", "http://10.0.0.1:7000"},
                     {"AGENTQ_TOKEN", "tok"},
                     {"AGENTQ_AGENT_CMD", "claude -p"},
                     {"AGENTQ_REVIEW_CMD", "review.sh"},
                     {"AGENTQ_WORKDIR", "/var/agentq"}});
  auto w = parse_config("AGENTQ_AGENT_CMD", {}, env);
  REQUIRE(w.config);
  CHECK(w.config->server == "http://10.0.0.1:7000");
  CHECK(w.config->token == "tok");
  CHECK(w.config->command == "claude -p");
  CHECK(w.config->workdir == "/var/agentq");
  CHECK(w.config->slots == 1);
  CHECK_FALSE(w.config->lease_s);

  auto r = parse_config("AGENTQ_REVIEW_CMD",
                        {"--server", "http://h:1", "--cmd=other", "--queues", "a,b", "--slots",
                         "3", "--lease-s", "5", "--wait-s", "0", "--task-timeout", "9",
                         "--max-tasks", "2", "--idle-exit", "4"},
                        env);
  REQUIRE(r.config);
  CHECK(r.config->command == "other");
  CHECK(r.config->server == "http://h:1");
  CHECK(r.config->queues == std::vector<std::string>{"a", "b"});
  CHECK(r.config->slots == 3);
  CHECK(*r.config->lease_s == 5);
  CHECK(r.config->wait_s == 0);
  CHECK(r.config->task_timeout == std::chrono::seconds(9));
  CHECK(r.config->max_tasks == 2);
  CHECK(r.config->idle_exit_s == 4);
}

TEST_CASE("defaults follow the contract", "[config]") {
  auto c = parse_config("AGENTQ_AGENT_CMD", {"--token", "t", "--cmd", "true"}, env_of({}));
  REQUIRE(c.config);
  CHECK(c.config->server == "http://127.0.0.1:7420");
  CHECK(c.config->workdir == "./.agentq/work");
  CHECK(c.config->queues.empty());
}

TEST_CASE("bad or missing configuration is a clear error", "[config]") {
  auto base = env_of({{"AGENTQ_TOKEN", "t"}, {"AGENTQ_AGENT_CMD", "true"}});
  auto error_of = [&](std::vector<std::string> args) {
    auto c = parse_config("AGENTQ_AGENT_CMD", args, base);
    CHECK_FALSE(c.config);
    return c.error;
  };
  CHECK(error_of({"--slots", "0"}).find("--slots") != std::string::npos);
  CHECK(error_of({"--lease-s", "2"}).find("--lease-s") != std::string::npos);
  CHECK(error_of({"--wait-s", "61"}).find("--wait-s") != std::string::npos);
  CHECK(error_of({"--slots", "two"}).find("two") != std::string::npos);
  CHECK(error_of({"--bogus"}).find("--bogus") != std::string::npos);
  CHECK(error_of({"--server", "127.0.0.1:7420"}).find("http://") != std::string::npos);
  CHECK(error_of({"--queues", "a,b c"}).find("queue") != std::string::npos);
  CHECK(error_of({"--max-tasks"}).find("needs a value") != std::string::npos);

  auto no_token = parse_config("AGENTQ_AGENT_CMD", {"--cmd", "x"}, env_of({}));
  CHECK(no_token.error.find("AGENTQ_TOKEN") != std::string::npos);
  auto no_cmd = parse_config("AGENTQ_REVIEW_CMD", {"--token", "x"},
                             env_of({{"AGENTQ_AGENT_CMD", "not-for-reviewers"}}));
  CHECK(no_cmd.error.find("AGENTQ_REVIEW_CMD") != std::string::npos);
}

TEST_CASE("help is recognised anywhere among the flags", "[config]") {
  auto c = parse_config("AGENTQ_AGENT_CMD", {"--slots", "2", "--help"}, env_of({}));
  CHECK(c.help);
  CHECK_FALSE(c.config);
}

TEST_CASE("the token can come from a file - never both ways at once", "[config][token-file]") {
  char pattern[] = "/tmp/agentq-token-XXXXXX";
  const int fd = ::mkstemp(pattern);
  REQUIRE(fd >= 0);
  const std::string path = pattern;
  REQUIRE(::write(fd, "aq_from_file\n", 13) == 13);
  ::close(fd);
  char empty_pattern[] = "/tmp/agentq-token-XXXXXX";
  const int empty_fd = ::mkstemp(empty_pattern);
  REQUIRE(empty_fd >= 0);
  ::close(empty_fd);
  const std::string empty = empty_pattern;

  auto from_env = parse_config("AGENTQ_AGENT_CMD", {"--cmd", "true"},
                               env_of({{"AGENTQ_TOKEN_FILE", path}}));
  REQUIRE(from_env.config);
  CHECK(from_env.config->token == "aq_from_file");
  auto from_flag =
      parse_config("AGENTQ_AGENT_CMD", {"--cmd", "true", "--token-file", path}, env_of({}));
  REQUIRE(from_flag.config);
  CHECK(from_flag.config->token == "aq_from_file");
  // A flag wins over the environment.
  auto flag_wins = parse_config("AGENTQ_AGENT_CMD", {"--cmd", "true", "--token-file", path},
                                env_of({{"AGENTQ_TOKEN", "env"}}));
  REQUIRE(flag_wins.config);
  CHECK(flag_wins.config->token == "aq_from_file");

  struct refusal {
    std::vector<std::string> args;
    std::map<std::string, std::string> env;
    std::string names;
  };
  const std::vector<refusal> table = {
      {{}, {{"AGENTQ_TOKEN", "t"}, {"AGENTQ_TOKEN_FILE", path}}, "both AGENTQ_TOKEN"},
      {{"--token", "t", "--token-file", path}, {}, "not both"},
      {{}, {{"AGENTQ_TOKEN_FILE", "/nonexistent/token"}}, "/nonexistent/token"},
      {{"--token-file", empty}, {}, "is empty"},
      {{}, {}, "AGENTQ_TOKEN_FILE"},
  };
  for (const auto& row : table) {
    auto args = row.args;
    args.insert(args.end(), {"--cmd", "true"});
    auto c = parse_config("AGENTQ_AGENT_CMD", args, env_of(row.env));
    INFO(row.names << ": " << c.error);
    CHECK_FALSE(c.config);
    CHECK(c.error.find(row.names) != std::string::npos);
  }
  ::unlink(path.c_str());
  ::unlink(empty.c_str());
}
