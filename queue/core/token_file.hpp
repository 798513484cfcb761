#pragma once
// A bearer token read from a file (AGENTQ_TOKEN_FILE, --token-file), as Docker
// and Kubernetes secrets provide them: the token then appears in no process's
// argv or environment. Shared by the runners and the CLI.

#include <optional>
#include <string>

namespace agentq {

// The file's first line without surrounding white space. Throws
// std::invalid_argument naming the file and the setting when it cannot be
// read or holds no token.
std::string read_token_file(const std::string& path, const std::string& setting);

// The token to use: the flag's file over the flag's token, then
// AGENTQ_TOKEN_FILE over AGENTQ_TOKEN (both set: an error, say which wins
// is a guess). nullopt when none is given.
std::optional<std::string> choose_token(const std::optional<std::string>& flag_token,
                                        const std::optional<std::string>& flag_file,
                                        const std::optional<std::string>& env_token,
                                        const std::optional<std::string>& env_file);

}  // namespace agentq
