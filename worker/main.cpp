// agentq-worker: runs a coding agent on claimed tasks (docs/api.md §2, §6).
// What a worker does with a claim is worker/work_job.cpp; the claim loop,
// the lease and the configuration it shares with agentq-reviewer are in
// runner/ (agentq_runner).
#include "runner/runner_loop.hpp"
#include "worker/work_job.hpp"

namespace {

const char* usage = R"(agentq-worker — runs a coding agent on tasks from an agentq server

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
  --token-file FILE  a file holding this worker's bearer token [AGENTQ_TOKEN_FILE;
                     the safest: the token is in no argv or environment]
  --token TOKEN      this worker's bearer token  [AGENTQ_TOKEN; prefer a file]
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
  --unhealthy-after N  the same fault N times in a row: stop claiming (0: never) [3]
  --agent-fault-s S    a non-zero exit this quick (or a missing program) is a fault [60]
  --unhealthy-backoff-s S      then wait S seconds before one probe task [30]
  --unhealthy-backoff-max-s S  doubling the wait up to S seconds [960]
  -h, --help         this text

The command gets AGENTQ_TASK_ID, AGENTQ_TASK_FILE and AGENTQ_WORKDIR; it does
not get AGENTQ_TOKEN. Git credentials for https/ssh remotes: AGENTQ_GIT_USERNAME,
AGENTQ_GIT_PASSWORD, AGENTQ_GIT_SSH_KEY, AGENTQ_GIT_SSH_PUBKEY,
AGENTQ_GIT_SSH_PASSPHRASE, or an ssh-agent (docs/agents.md).

When the command cannot run (its program is missing, or it exits non-zero
within --agent-fault-s, e.g. a CLI that is not logged in), the claim is given
back without charging the task's attempt. After --unhealthy-after such
faults in a row the runner logs what to fix (event=agent_unavailable), shows
itself unhealthy in `agentq agent list`, and claims one task at a time after
a doubling wait until the command runs again (docs/agents.md).

SIGTERM or SIGINT: no new claims; the task in hand finishes within
--stop-grace or is killed and released. A second signal releases it at once.

Exit codes: 0 done (--max-tasks, --idle-exit, SIGTERM), 1 unexpected error,
2 bad usage, 3 server unreachable, 4 token refused (401), or a token of the
wrong role (403, or a worker token given to agentq-reviewer and vice versa).
)";

}  // namespace

int main(int argc, char** argv) {
  const agentq::runner::runner_profile profile{
      .program = "agentq-worker",
      .usage = usage,
      .command_variable = "AGENTQ_AGENT_CMD",
      .role = "worker",
      .job = agentq::worker::run_work_job,
  };
  return agentq::runner::runner_main(profile, argc, argv);
}
