// agentq-reviewer: runs a review command on submissions (docs/api.md §2, §7).
// What a reviewer does with a claim is reviewer/review_job.cpp; the claim
// loop, the lease and the configuration it shares with agentq-worker are in
// runner/ (agentq_runner).
#include "reviewer/review_job.hpp"
#include "runner/runner_loop.hpp"

namespace {

const char* usage = R"(agentq-reviewer — runs a review command on submissions from an agentq server

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
  --token-file FILE  a file holding this reviewer's bearer token [AGENTQ_TOKEN_FILE;
                     the safest: the token is in no argv or environment]
  --token TOKEN      this reviewer's bearer token [AGENTQ_TOKEN; prefer a file]
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
  --unhealthy-after N  the same fault N times in a row: stop claiming (0: never) [3]
  --agent-fault-s S    a non-zero exit this quick (or a missing program) is a fault [60]
  --unhealthy-backoff-s S      then wait S seconds before one probe task [30]
  --unhealthy-backoff-max-s S  doubling the wait up to S seconds [960]
  -h, --help         this text

The command gets AGENTQ_TASK_ID, AGENTQ_TASK_FILE and AGENTQ_WORKDIR; it does
not get AGENTQ_TOKEN. Git credentials: as for agentq-worker (docs/agents.md).

When the command cannot run (its program is missing, or it exits non-zero
within --agent-fault-s, e.g. a CLI that is not logged in), the claim is given
back without charging the task's attempt. After --unhealthy-after such
faults in a row the runner logs what to fix (event=agent_unavailable), shows
itself unhealthy in `agentq agent list`, and claims one task at a time after
a doubling wait until the command runs again (docs/agents.md).

SIGTERM or SIGINT: no new claims; the review in hand finishes within
--stop-grace or is killed and released. A second signal releases it at once.

Exit codes: 0 done (--max-tasks, --idle-exit, SIGTERM), 1 unexpected error,
2 bad usage, 3 server unreachable, 4 token refused (401), or a token of the
wrong role (403, or a worker token given to agentq-reviewer and vice versa).
)";

}  // namespace

int main(int argc, char** argv) {
  const agentq::runner::runner_profile profile{
      .program = "agentq-reviewer",
      .usage = usage,
      .command_variable = "AGENTQ_REVIEW_CMD",
      .role = "reviewer",
      .job = agentq::reviewer::run_review_job,
  };
  return agentq::runner::runner_main(profile, argc, argv);
}
