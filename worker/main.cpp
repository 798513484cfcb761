// agentq-worker: runs a coding agent on claimed tasks (CONTRACT §2, §6).
// Everything lives in runner/ (shared with agentq-reviewer); see --help.
#include "runner/runner_loop.hpp"

int main(int argc, char** argv) {
  return agentq::runner::runner_main(agentq::runner::runner_role::worker, argc, argv);
}
