#pragma once
// End-to-end fixtures for the runners: a real `agentq serve` (tests/http's
// server_process) on a fresh test database, a bare origin repository, and
// agentq-worker / agentq-reviewer started as real processes.

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <thread>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "http_client.hpp"
#include "process.hpp"
#include "runner_support.hpp"
#include "support/test_database.hpp"

namespace agentq::testing {

// An agentq-worker or agentq-reviewer process; killed (SIGKILL) if the test
// leaves it running.
class runner_process {
 public:
  runner_process(const std::string& binary, const std::vector<std::string>& args,
                 const std::map<std::string, std::string>& env, const std::filesystem::path& log);
  ~runner_process();
  runner_process(const runner_process&) = delete;
  runner_process& operator=(const runner_process&) = delete;

  pid_t pid() const { return m_pid; }
  void signal(int sig);
  // Waits for the exit (bounded; a hang fails the test) and answers the exit
  // code, or 128 + signal.
  int wait(std::chrono::seconds limit = std::chrono::seconds(180));
  std::string log() const;

 private:
  pid_t m_pid = -1;
  int m_status = -1;
  std::filesystem::path m_log;
};

struct e2e_fixture {
  explicit e2e_fixture(const std::vector<std::string>& server_flags = {});

  scratch_dir tmp;
  test_database db;
  server_process server;
  http_client admin;
  std::filesystem::path origin;
  std::string seed;  // the base branch's first commit

  std::string scripts() const;  // scripts/agents
  std::string example_worker() const { return "sh " + quote(scripts() + "/example-worker.sh"); }
  std::string example_reviewer() const { return "sh " + quote(scripts() + "/example-reviewer.sh"); }

  // A task in repository "demo"; answers its id.
  std::int64_t add_task(const std::string& title, const std::string& body,
                        const nlohmann::json& labels = nlohmann::json::array());
  nlohmann::json get_task(std::int64_t id);  // {task, claims, submissions, ...}
  std::string state(std::int64_t id) { return get_task(id)["task"]["state"]; }
  std::string agent(const std::string& name, const std::string& role);  // its token

  // Starts a runner. role: "worker" or "reviewer".
  std::unique_ptr<runner_process> start(const std::string& role, const std::string& token,
                                        const std::string& command,
                                        const std::vector<std::string>& args,
                                        const std::string& name,
                                        const std::map<std::string, std::string>& extra_env = {});
};

// Polls `condition` for up to two minutes (events, not timings).
template <class F>
bool eventually(F condition, std::chrono::seconds limit = std::chrono::seconds(120)) {
  auto give_up = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < give_up) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return condition();
}

}  // namespace agentq::testing
