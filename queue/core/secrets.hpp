#pragma once
// Bearer tokens for agents. A token is shown once, when the agent is made;
// the database keeps only its SHA-256 (docs/api.md §5), so a leaked table does
// not let anyone in. Tokens are 256 random bits: no salt or slow hash needed.

#include <string>
#include <string_view>

namespace agentq {

// "aq_" and 64 hex digits from the kernel's random source.
std::string generate_token();

// Lower-case hex SHA-256 of the text.
std::string sha256_hex(std::string_view text);

// Compares secrets in time that does not depend on where they differ.
bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace agentq
