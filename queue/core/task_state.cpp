#include "core/task_state.hpp"

#include <array>
#include <utility>

namespace agentq {
namespace {

constexpr std::array<std::pair<task_state, std::string_view>, 8> state_names{{
    {task_state::queued, "queued"},
    {task_state::working, "working"},
    {task_state::awaiting_review, "awaiting_review"},
    {task_state::reviewing, "reviewing"},
    {task_state::done, "done"},
    {task_state::failed, "failed"},
    {task_state::cancelled, "cancelled"},
    {task_state::needs_human, "needs_human"},
}};

constexpr std::array<std::pair<agent_role, std::string_view>, 3> role_names{{
    {agent_role::worker, "worker"},
    {agent_role::reviewer, "reviewer"},
    {agent_role::admin, "admin"},
}};

}  // namespace

std::string_view to_string(task_state state) {
  for (const auto& [value, name] : state_names)
    if (value == state) return name;
  return "unknown";
}

std::optional<task_state> parse_task_state(std::string_view text) {
  for (const auto& [value, name] : state_names)
    if (name == text) return value;
  return std::nullopt;
}

std::string_view to_string(agent_role role) {
  for (const auto& [value, name] : role_names)
    if (value == role) return name;
  return "unknown";
}

std::optional<agent_role> parse_agent_role(std::string_view text) {
  for (const auto& [value, name] : role_names)
    if (name == text) return value;
  return std::nullopt;
}

bool is_final(task_state state) {
  return state == task_state::done || state == task_state::failed ||
         state == task_state::cancelled;
}

bool is_held(task_state state) {
  return state == task_state::working || state == task_state::reviewing;
}

bool is_transition(task_state from, task_state to) {
  using s = task_state;
  if (to == s::cancelled) return !is_final(from);
  switch (from) {
    case s::queued:
      return to == s::working;
    case s::working:  // submit, release, lease expiry, attempts used up
      return to == s::awaiting_review || to == s::queued || to == s::failed;
    case s::awaiting_review:
      return to == s::reviewing;
    case s::reviewing:  // approve+merge, merge conflict, reject, release/expiry
      return to == s::done || to == s::queued || to == s::needs_human ||
             to == s::awaiting_review;
    case s::needs_human:  // requeue, or a person approves the last submission
      return to == s::queued || to == s::done;
    case s::failed:
    case s::cancelled:  // a person requeues
      return to == s::queued;
    case s::done:
      return false;
  }
  return false;
}

}  // namespace agentq
