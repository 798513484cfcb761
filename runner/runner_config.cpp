#include "runner/runner_config.hpp"

#include <cstdlib>
#include <stdexcept>

#include "core/requests.hpp"

namespace agentq::runner {

namespace {

const char* worker_usage = R"(agentq-worker — runs a coding agent on tasks from an agentq server

Usage: agentq-worker [options]

Long-polls the server for queued tasks. For each claimed task it makes a git
work tree on a fresh branch from the repository's base branch, writes the
claim answer (task, body, feedback of earlier review rounds) to
AGENTQ_TASK_FILE and runs the agent command there through /bin/sh -c, in its
own process group, heartbeating the lease meanwhile. Exit 0 with changes:
commit everything (except .agentq/), push exactly agentq/<task-id>/<token>
and submit it for review, with .agentq/summary.md (if the command wrote it)
or the last lines of its output as the summary. Exit 0 without changes, a
non-zero exit or a timeout: the task is released for another attempt. A
heartbeat the server refuses (task cancelled or reclaimed) kills the command
at once and nothing is pushed.

Options (flags win over the environment):
  --server URL       server base URL            [AGENTQ_SERVER, http://127.0.0.1:7420]
  --token TOKEN      this worker's bearer token  [AGENTQ_TOKEN; prefer the variable]
  --cmd COMMAND      the agent command           [AGENTQ_AGENT_CMD]
  --workdir DIR      mirrors and checkouts       [AGENTQ_WORKDIR, ./.agentq/work]
  --queues A,B       queues to take tasks from   [every queue]
  --slots N          tasks worked at once, each in its own checkout [1]
  --lease-s S        lease asked for (5..3600)   [the server's default]
  --wait-s S         long-poll wait per claim request (0..60) [20]
  --task-timeout S   kill the command after S seconds [3600]
  --kill-grace S     after a timeout, SIGTERM then SIGKILL after S seconds [10]
  --stop-grace S     after SIGTERM to the runner, let a task run S more seconds [60]
  --max-tasks N      exit after N tasks (0: no limit) [0]
  --idle-exit S      exit after S seconds without work (0: never) [0]
  --log-level L      trace, debug, info, warn, error [info]
  -h, --help         this text

The command gets AGENTQ_TASK_ID, AGENTQ_TASK_FILE and AGENTQ_WORKDIR; it does
not get AGENTQ_TOKEN. Git credentials for https/ssh remotes: AGENTQ_GIT_USERNAME,
AGENTQ_GIT_PASSWORD, AGENTQ_GIT_SSH_KEY, AGENTQ_GIT_SSH_PUBKEY,
AGENTQ_GIT_SSH_PASSPHRASE, or an ssh-agent (docs/agents.md).

SIGTERM or SIGINT: no new claims; the task in hand finishes within
--stop-grace or is killed and released. A second signal releases it at once.

Exit codes: 0 done (--max-tasks, --idle-exit, SIGTERM), 1 unexpected error,
2 bad usage, 3 server unreachable, 4 token refused (401), or a token of the
wrong role (403, or a worker token given to agentq-reviewer and vice versa).
)";

const char* reviewer_usage = R"(agentq-reviewer — runs a review command on submissions from an agentq server

Usage: agentq-reviewer [options]

Long-polls the server for submissions awaiting review (never of a task this
reviewer worked on). For each it fetches the submission's branch and checks
out exactly the submitted commit in a work tree, writes AGENTQ_TASK_FILE
(task, submission, diff stats, feedback of earlier rounds) and runs the
review command there through /bin/sh -c in its own process group,
heartbeating the lease. Exit 0 approves; exit 1 rejects with the command's
output as the reasons; any other exit or a timeout releases the review for
another reviewer. A heartbeat the server refuses kills the command at once.

Options (flags win over the environment):
  --server URL       server base URL            [AGENTQ_SERVER, http://127.0.0.1:7420]
  --token TOKEN      this reviewer's bearer token [AGENTQ_TOKEN; prefer the variable]
  --cmd COMMAND      the review command          [AGENTQ_REVIEW_CMD]
  --workdir DIR      mirrors and checkouts       [AGENTQ_WORKDIR, ./.agentq/work]
  --queues A,B       queues to take reviews from [every queue]
  --slots N          reviews run at once, each in its own checkout [1]
  --lease-s S        lease asked for (5..3600)   [the server's default]
  --wait-s S         long-poll wait per claim request (0..60) [20]
  --task-timeout S   kill the command after S seconds [3600]
  --kill-grace S     after a timeout, SIGTERM then SIGKILL after S seconds [10]
  --stop-grace S     after SIGTERM to the runner, let a review run S more seconds [60]
  --max-tasks N      exit after N reviews (0: no limit) [0]
  --idle-exit S      exit after S seconds without work (0: never) [0]
  --log-level L      trace, debug, info, warn, error [info]
  -h, --help         this text

The command gets AGENTQ_TASK_ID, AGENTQ_TASK_FILE and AGENTQ_WORKDIR; it does
not get AGENTQ_TOKEN. Git credentials: as for agentq-worker (docs/agents.md).

SIGTERM or SIGINT: no new claims; the review in hand finishes within
--stop-grace or is killed and released. A second signal releases it at once.

Exit codes: 0 done (--max-tasks, --idle-exit, SIGTERM), 1 unexpected error,
2 bad usage, 3 server unreachable, 4 token refused (401), or a token of the
wrong role (403, or a worker token given to agentq-reviewer and vice versa).
)";

int to_int(const std::string& flag, const std::string& value, int min, int max) {
  std::size_t used = 0;
  long v = 0;
  try {
    v = std::stol(value, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != value.size() || value.empty() || v < min || v > max)
    throw std::invalid_argument(flag + " needs a whole number from " + std::to_string(min) +
                                " to " + std::to_string(max) + ", not '" + value + "'");
  return static_cast<int>(v);
}

std::vector<std::string> split_queues(const std::string& value) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= value.size()) {
    auto comma = value.find(',', start);
    std::string name = value.substr(start, comma == std::string::npos ? std::string::npos
                                                                     : comma - start);
    if (!name.empty()) {
      if (!is_valid_name(name, 64))
        throw std::invalid_argument("--queues: '" + name + "' is not a queue name");
      out.push_back(name);
    }
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

}  // namespace

const char* program_name(runner_role role) {
  return role == runner_role::worker ? "agentq-worker" : "agentq-reviewer";
}

std::string usage(runner_role role) {
  return role == runner_role::worker ? worker_usage : reviewer_usage;
}

env_lookup process_environment() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (!v || !*v) return std::nullopt;
    return std::string(v);
  };
}

parsed_config parse_config(runner_role role, const std::vector<std::string>& args,
                           const env_lookup& env) {
  parsed_config out;
  runner_config c;
  c.role = role;
  const std::string cmd_var = role == runner_role::worker ? "AGENTQ_AGENT_CMD" : "AGENTQ_REVIEW_CMD";
  if (auto v = env("AGENTQ_SERVER")) c.server = *v;
  if (auto v = env("AGENTQ_TOKEN")) c.token = *v;
  if (auto v = env(cmd_var)) c.command = *v;
  if (auto v = env("AGENTQ_WORKDIR")) c.workdir = *v;

  try {
    for (std::size_t i = 0; i < args.size(); ++i) {
      std::string flag = args[i];
      std::optional<std::string> inline_value;
      if (auto eq = flag.find('='); flag.starts_with("--") && eq != std::string::npos) {
        inline_value = flag.substr(eq + 1);
        flag = flag.substr(0, eq);
      }
      if (flag == "-h" || flag == "--help") {
        out.help = true;
        return out;
      }
      auto value = [&]() -> std::string {
        if (inline_value) return *inline_value;
        if (i + 1 >= args.size()) throw std::invalid_argument(flag + " needs a value");
        return args[++i];
      };
      if (flag == "--server") c.server = value();
      else if (flag == "--token") c.token = value();
      else if (flag == "--cmd") c.command = value();
      else if (flag == "--workdir") c.workdir = value();
      else if (flag == "--queues") c.queues = split_queues(value());
      else if (flag == "--slots") c.slots = to_int(flag, value(), 1, 64);
      else if (flag == "--lease-s") c.lease_s = to_int(flag, value(), limits::lease_min_s, limits::lease_max_s);
      else if (flag == "--wait-s") c.wait_s = to_int(flag, value(), 0, limits::wait_max_s);
      else if (flag == "--task-timeout") c.task_timeout = std::chrono::seconds(to_int(flag, value(), 1, 7 * 24 * 3600));
      else if (flag == "--kill-grace") c.kill_grace = std::chrono::seconds(to_int(flag, value(), 0, 3600));
      else if (flag == "--stop-grace") c.stop_grace = std::chrono::seconds(to_int(flag, value(), 0, 24 * 3600));
      else if (flag == "--max-tasks") c.max_tasks = to_int(flag, value(), 0, 1000000000);
      else if (flag == "--idle-exit") c.idle_exit_s = to_int(flag, value(), 0, 1000000000);
      else if (flag == "--log-level") c.log_level = value();
      else throw std::invalid_argument("unknown option '" + args[i] + "'");
    }
  } catch (const std::invalid_argument& e) {
    out.error = e.what();
    return out;
  }

  if (!c.server.starts_with("http://") || c.server.size() <= 7)
    out.error = "the server URL must look like http://host:port, not '" + c.server +
                "' (--server or AGENTQ_SERVER)";
  else if (c.token.empty())
    out.error = "no token: set AGENTQ_TOKEN (or --token) to this agent's bearer token";
  else if (c.command.empty())
    out.error = "no command: set " + cmd_var + " (or --cmd) to the command to run";
  else if (c.workdir.empty())
    out.error = "the work directory must not be empty";
  else if (c.log_level != "trace" && c.log_level != "debug" && c.log_level != "info" &&
           c.log_level != "warn" && c.log_level != "error")
    out.error = "--log-level must be one of trace, debug, info, warn, error";
  if (out.error.empty()) out.config = std::move(c);
  return out;
}

}  // namespace agentq::runner
