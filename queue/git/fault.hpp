#pragma once
// Fault injection for the crash tests: the process dies at a named point, as
// if the machine had lost power there.
//
//   AGENTQ_FAULT=merger.after_push   the merger exits with status 137 right
//                                    after a push succeeded, before the
//                                    merge is recorded (tests/merge)
//
// AGENTQ_FAULT holds one point or several separated by commas. Unset (the
// normal case) costs one getenv per point reached. Never set it in
// production.

#include <string_view>

namespace agentq {

// True when AGENTQ_FAULT names `point`.
bool fault_armed(std::string_view point);

// Dies at once with _exit(137) (no destructors, no atexit, no flush: like a
// SIGKILL) when AGENTQ_FAULT names `point`; otherwise does nothing.
void fault_point(std::string_view point);

}  // namespace agentq
