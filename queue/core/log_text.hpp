#pragma once
// Text that came from outside (a task's title, an agent's output, a git
// error, a repository URL) on its way into a log line or a stored message.

#include <string>
#include <string_view>

namespace agentq {

// Control characters as visible escapes: \n, \r, \t, and \xNN for the rest of
// 0x00-0x1f and 0x7f. A log line stays one line whatever a field holds, so no
// input can forge a line of its own.
std::string escape_control(std::string_view text);

// Credentials in URLs masked: scheme://user:password@host and
// scheme://token@host become scheme://***@host.
std::string redact_credentials(std::string_view text);

// Both: what every log line's message goes through (see safe_log_formatter).
std::string log_safe(std::string_view text);

}  // namespace agentq
