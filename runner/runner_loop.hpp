#pragma once
// The claim loop every runner program shares: long-poll for work while a
// slot is free, hand each claim to the profile's job on a thread of its own, and stop
// on --max-tasks, --idle-exit or a signal. Answers the process's exit code.
//
//   first claim request unreachable  -> exit 3 at once (a bad --server)
//   401 / 403                        -> exit 4 (a bad token or role)
//   later outages                    -> retried with backoff; exit 3 only if
//                                       --idle-exit runs out while unreachable
//
// A long-poll in flight is not interrupted: after SIGTERM the runner exits
// within --wait-s plus the task in hand's --stop-grace. A claim that arrives
// after the signal is released at once.

#include <condition_variable>
#include <mutex>
#include <vector>

#include "runner/agent_health.hpp"
#include "runner/claim_session.hpp"
#include "runner/git_workspace.hpp"
#include "runner/runner_config.hpp"
#include "runner/runner_profile.hpp"

namespace agentq::runner {

class runner_loop {
 public:
  runner_loop(runner_profile profile, runner_config config);

  int run();

  // From the signal thread: the first signal stops claiming, the second
  // stops the commands in hand at once.
  void request_stop();
  void request_abort();

 private:
  void wait_for_slot();
  // While the agent cannot run: one task at a time, after the backoff.
  // Answers false when the loop should look again (woken, or still waiting).
  bool ready_to_probe();
  bool sleep_interruptibly(std::chrono::milliseconds duration);

  runner_profile m_profile;
  runner_config m_config;
  git_workspace m_workspace;
  stop_state m_stop;
  agent_health m_health;
  std::mutex m_mutex;
  std::condition_variable m_wake;
  int m_active = 0;
  std::vector<int> m_finished;  // job numbers whose thread may be joined
  std::chrono::steady_clock::time_point m_idle_since;
};

// Installs the signal handling both mains use: SIGTERM/SIGINT blocked in
// every thread, one thread that sigwaits and calls request_stop, then
// request_abort. Call before any other thread starts.
void handle_signals(runner_loop& loop);

// The whole program: flags, logging, the loop. main() fills in the profile
// and calls this.
int runner_main(const runner_profile& profile, int argc, char** argv);

}  // namespace agentq::runner
