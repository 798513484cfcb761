#include "runner/agent_health.hpp"

#include <algorithm>

namespace agentq::runner {

std::optional<agent_fault> classify_fault(const command_result& ran,
                                          std::chrono::seconds window) {
  if (ran.outcome != command_result::kind::exited || ran.status.success()) return std::nullopt;
  // /bin/sh's answers for a command it cannot find (127) or run (126).
  const bool missing = ran.status.exited && (ran.status.code == 127 || ran.status.code == 126);
  if (!missing && ran.elapsed > window) return std::nullopt;
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(ran.elapsed).count();
  agent_fault fault;
  // The exit status alone: CLIs put changing details (a temp path, a time)
  // in their messages, and the same exit code before any work is the same
  // failure for what the runner must do.
  fault.signature = ran.status.describe();
  fault.description = ran.status.describe() + " after " + std::to_string(seconds) + " s";
  if (missing) fault.description += " (the shell cannot find or run the command)";
  if (!ran.last_line.empty()) fault.description += "; last output: " + ran.last_line;
  return fault;
}

agent_health::agent_health(int unhealthy_after, std::chrono::seconds backoff_start,
                           std::chrono::seconds backoff_max)
    : m_unhealthy_after(unhealthy_after),
      m_backoff_start(backoff_start),
      m_backoff_max(std::max(backoff_start, backoff_max)) {}

agent_health::change agent_health::record_fault(const agent_fault& fault) {
  std::lock_guard lock(m_mutex);
  if (fault.signature == m_signature) {
    ++m_streak;
  } else {
    m_signature = fault.signature;
    m_streak = 1;
  }
  m_description = fault.description;
  if (m_unhealthy_after <= 0 || m_streak < m_unhealthy_after) return change::none;
  const bool was = m_unhealthy;
  m_backoff = was ? std::min(m_backoff * 2, m_backoff_max) : m_backoff_start;
  m_unhealthy = true;
  m_said_healthy = false;
  m_resume_at = clock::now() + m_backoff;
  return was ? change::still_unhealthy : change::became_unhealthy;
}

agent_health::change agent_health::record_fine() {
  std::lock_guard lock(m_mutex);
  const bool was = m_unhealthy;
  m_signature.clear();
  m_streak = 0;
  m_unhealthy = false;
  m_backoff = std::chrono::seconds(0);
  if (was) {
    m_said_healthy = true;
    return change::became_healthy;
  }
  if (!m_said_healthy) {
    m_said_healthy = true;
    return change::first_fine;
  }
  return change::none;
}

bool agent_health::unhealthy() const {
  std::lock_guard lock(m_mutex);
  return m_unhealthy;
}

agent_health::clock::time_point agent_health::resume_at() const {
  std::lock_guard lock(m_mutex);
  return m_resume_at;
}

std::chrono::seconds agent_health::backoff() const {
  std::lock_guard lock(m_mutex);
  return m_backoff;
}

int agent_health::streak() const {
  std::lock_guard lock(m_mutex);
  return m_streak;
}

std::string agent_health::last_fault() const {
  std::lock_guard lock(m_mutex);
  return m_description;
}

}  // namespace agentq::runner
