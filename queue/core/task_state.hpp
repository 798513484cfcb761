#pragma once
// The task state machine (docs/api.md §3). Said once here, once in the database
// (the task_state enum and the CHECKs of sql/migrations/0001_init.sql), and
// each transition is one guarded statement in sql/queries/.
//
//   queued ──claim(worker)──▶ working ──submit──▶ awaiting_review ──claim(reviewer)──▶ reviewing
//     ▲  ▲                      │  │                    ▲                                 │ │ │
//     │  └──lease expired───────┘  └─release(retry)─┐   └───lease expired / release───────┘ │ │
//     │                                             ▼                                       │ │
//     └──────────reject (rounds left) / merge conflict──────────────────────────────────────┘ │
//                                                                                             │
//   approve + merged ─▶ done     reject (no rounds left) ─▶ needs_human ─▶ requeue / approve / cancel
//   attempts used up ─▶ failed   cancel ─▶ cancelled (from any state that is not final)

#include <optional>
#include <string_view>

namespace agentq {

enum class task_state {
  queued,
  working,
  awaiting_review,
  reviewing,
  done,
  failed,
  cancelled,
  needs_human,
};

enum class agent_role { worker, reviewer, admin };

std::string_view to_string(task_state state);
std::optional<task_state> parse_task_state(std::string_view text);

std::string_view to_string(agent_role role);
std::optional<agent_role> parse_agent_role(std::string_view text);

// done, failed and cancelled: nothing moves a task out of them but a person.
bool is_final(task_state state);

// Whether a task in this state holds a live claim (and so a fencing token).
bool is_held(task_state state);

// The transitions of the diagram above, for tests and for the event checker.
// Requeue from a final state by a person is included.
bool is_transition(task_state from, task_state to);

}  // namespace agentq
