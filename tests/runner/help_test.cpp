// Each program speaks for itself: agentq-worker's --help and errors name its
// own command variable and role, agentq-reviewer's name theirs, and neither
// names the other's. Runs the real binaries; no server needed.
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "runner_support.hpp"

using namespace agentq::testing;

namespace {

struct program {
  std::string binary;
  std::string name;
  std::string variable;        // its command variable
  std::string other_variable;  // the other program's
  std::string role;
  std::string other_role;
};

const std::vector<program> programs = {
    {AGENTQ_WORKER_BINARY, "agentq-worker", "AGENTQ_AGENT_CMD", "AGENTQ_REVIEW_CMD", "worker",
     "reviewer"},
    {AGENTQ_REVIEWER_BINARY, "agentq-reviewer", "AGENTQ_REVIEW_CMD", "AGENTQ_AGENT_CMD",
     "reviewer", "worker"},
};

// The program with an empty environment plus `env`; stderr dropped unless
// `with_stderr`.
shell_result run(const program& p, const std::string& env, const std::string& args,
                 bool with_stderr) {
  return shell("env -i " + env + " " + quote(p.binary) + " " + args +
               (with_stderr ? "" : " 2>/dev/null"));
}

}  // namespace

TEST_CASE("each program's --help names its own command variable and role", "[help]") {
  for (const auto& p : programs) {
    INFO(p.name);
    // The other program's variable in the environment must not change the text.
    auto help = run(p, p.other_variable + "=x", "--help", false);
    INFO(help.output);
    CHECK(help.status == 0);
    CHECK(help.output.rfind(p.name + " — ", 0) == 0);
    CHECK(help.output.find("Usage: " + p.name + " [options]") != std::string::npos);
    CHECK(help.output.find("[" + p.variable + "]") != std::string::npos);
    CHECK(help.output.find(p.other_variable) == std::string::npos);
    CHECK(help.output.find("this " + p.role + "'s bearer token") != std::string::npos);
    CHECK(help.output.find("this " + p.other_role + "'s bearer token") == std::string::npos);
    for (const char* flag : {"--server", "--token", "--cmd", "--workdir", "--queues", "--slots",
                             "--lease-s", "--wait-s", "--task-timeout", "--kill-grace",
                             "--stop-grace", "--max-tasks", "--idle-exit", "--log-level", "--help",
                             "Exit codes"})
      CHECK(help.output.find(flag) != std::string::npos);
    // -h anywhere among the flags is the same text.
    CHECK(run(p, "", "--slots 2 -h", false).output == help.output);
  }
}

TEST_CASE("each program asks for its own command variable and not the other one", "[help]") {
  for (const auto& p : programs) {
    INFO(p.name);
    auto missing = run(p, "AGENTQ_TOKEN=t " + p.other_variable + "=x", "", true);
    INFO(missing.output);
    CHECK(missing.status == 2);
    CHECK(missing.output.rfind(p.name + ": no command: set " + p.variable, 0) == 0);
    CHECK(missing.output.find("(see " + p.name + " --help)") != std::string::npos);
  }
}
