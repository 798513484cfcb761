#pragma once
// Whether this runner's agent command can run at all (issue 15; docs/agents.md
// "When the agent cannot run"). A command that fails before doing any work
// — its program is missing (exit 126/127), or it exits non-zero within
// --agent-fault-s, e.g. a CLI with no login — is a fault of the runner, not
// of the task: the claim is given back without charging the task's attempt.
// When the same fault (the same exit status) comes --unhealthy-after
// times in a row, the runner is unhealthy: it claims nothing for a backoff
// (doubling up to a cap), then tries one task; any command that does not
// fault that way makes it healthy again. Thread-safe: jobs report, the loop
// asks.

#include <chrono>
#include <mutex>
#include <optional>
#include <string>

#include "runner/claim_session.hpp"

namespace agentq::runner {

// What a command that failed before doing any work said: `signature` tells
// one fault from another, `description` is for people.
struct agent_fault {
  std::string signature;
  std::string description;  // "exit code 1 after 2 s; last output: Not logged in"
};

// The fault a command's end shows, if any. `window`: how quick a non-zero
// exit must be to count (a missing program counts whatever the time).
std::optional<agent_fault> classify_fault(const command_result& ran,
                                          std::chrono::seconds window);

class agent_health {
 public:
  using clock = std::chrono::steady_clock;

  // What a report changed, so the caller can log it and tell the server.
  // first_fine: the first command since the start that did not fault (the
  // server may still show an unhealthy status from an earlier run).
  enum class change { none, became_unhealthy, still_unhealthy, became_healthy, first_fine };

  agent_health(int unhealthy_after, std::chrono::seconds backoff_start,
               std::chrono::seconds backoff_max);

  change record_fault(const agent_fault& fault);
  change record_fine();

  bool unhealthy() const;
  // While unhealthy: when the next probe may claim. The backoff in force.
  clock::time_point resume_at() const;
  std::chrono::seconds backoff() const;
  int streak() const;
  std::string last_fault() const;  // its description

 private:
  const int m_unhealthy_after;  // 0: never unhealthy
  const std::chrono::seconds m_backoff_start;
  const std::chrono::seconds m_backoff_max;
  mutable std::mutex m_mutex;
  std::string m_signature;
  std::string m_description;
  int m_streak = 0;
  bool m_unhealthy = false;
  bool m_said_healthy = false;
  std::chrono::seconds m_backoff{0};
  clock::time_point m_resume_at{};
};

}  // namespace agentq::runner
