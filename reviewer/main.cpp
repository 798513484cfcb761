// agentq-reviewer: runs a review command on submissions (CONTRACT §2, §7).
// Everything lives in runner/ (shared with agentq-worker); see --help.
#include "runner/runner_loop.hpp"

int main(int argc, char** argv) {
  return agentq::runner::runner_main(agentq::runner::runner_role::reviewer, argc, argv);
}
