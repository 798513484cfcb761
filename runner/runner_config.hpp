#pragma once
// The runners' configuration: flags, with environment variables as defaults
// (docs/api.md §2), and the exit codes scripts can rely on.
//
// | flag             | env                             | default                 |
// |------------------|---------------------------------|-------------------------|
// | --server URL     | AGENTQ_SERVER                   | http://127.0.0.1:7420   |
// | --token-file F   | AGENTQ_TOKEN_FILE               | (or the token itself:)  |
// | --token T        | AGENTQ_TOKEN                    | none (required)         |
// | --cmd CMD        | the program's command variable  | none (required)         |
// | --workdir DIR    | AGENTQ_WORKDIR                  | ./.agentq/work          |
// | --queues a,b     |                                 | every queue             |
// | --slots N        |                                 | 1                       |
// | --lease-s S      |                                 | the server's default    |
// | --wait-s S       |                                 | 20 (long-poll, 0..60)   |
// | --task-timeout S |                                 | 3600                    |
// | --kill-grace S   |                                 | 10 (SIGTERM → SIGKILL)  |
// | --stop-grace S   |                                 | 60 (after our SIGTERM)  |
// | --max-tasks N    |                                 | 0 = no limit            |
// | --idle-exit S    |                                 | 0 = never               |
// | --unhealthy-after N |                              | 3 (0 = never)           |
// | --agent-fault-s S   |                              | 60                      |
// | --unhealthy-backoff-s S |                          | 30 (doubling)           |
// | --unhealthy-backoff-max-s S |                      | 960                     |
//
// The last four: runner/agent_health.hpp (an agent command that cannot run).
//
// Each program names its command variable in its runner_profile.

#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/defaults.hpp"

namespace agentq::runner {

// Exit codes of every runner program.
namespace exit_code {
constexpr int ok = 0;           // --max-tasks reached, --idle-exit, or SIGTERM
constexpr int failure = 1;      // an unexpected error (see the log)
constexpr int usage = 2;        // bad flags or missing configuration
constexpr int unreachable = 3;  // the server could not be reached
constexpr int refused = 4;      // the server refused the token (401) or the role (403)
}  // namespace exit_code

struct runner_config {
  std::string server = defaults::server_url;
  std::string token;
  std::string command;
  std::filesystem::path workdir = "./.agentq/work";
  std::vector<std::string> queues;  // empty: every queue
  int slots = 1;
  std::optional<int> lease_s;  // none: the server's default
  int wait_s = 20;
  std::chrono::seconds task_timeout{3600};
  std::chrono::seconds kill_grace{10};
  std::chrono::seconds stop_grace{60};
  int max_tasks = 0;
  int idle_exit_s = 0;
  std::string log_level = "info";
  // runner/agent_health.hpp: when the agent command cannot run.
  int unhealthy_after = 3;
  std::chrono::seconds agent_fault{60};
  std::chrono::seconds unhealthy_backoff{30};
  std::chrono::seconds unhealthy_backoff_max{960};
};

struct parsed_config {
  std::optional<runner_config> config;  // set when the flags were good
  bool help = false;                    // --help: print the usage, exit 0
  std::string error;                    // otherwise: what is wrong
};

using env_lookup = std::function<std::optional<std::string>(const std::string&)>;
env_lookup process_environment();

// command_variable: the environment variable --cmd defaults to (the
// program's profile names it).
parsed_config parse_config(const std::string& command_variable,
                           const std::vector<std::string>& args, const env_lookup& env);

}  // namespace agentq::runner
