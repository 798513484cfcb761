#include "core/token_file.hpp"

#include <fstream>
#include <stdexcept>

namespace agentq {

std::string read_token_file(const std::string& path, const std::string& setting) {
  std::ifstream in(path);
  if (!in) throw std::invalid_argument("cannot read the token file '" + path + "' (" + setting + ")");
  std::string line;
  std::getline(in, line);
  const auto first = line.find_first_not_of(" \t\r\n");
  const auto last = line.find_last_not_of(" \t\r\n");
  if (first == std::string::npos)
    throw std::invalid_argument("the token file '" + path + "' (" + setting +
                                ") is empty: put the agent's token on its first line");
  return line.substr(first, last - first + 1);
}

std::optional<std::string> choose_token(const std::optional<std::string>& flag_token,
                                        const std::optional<std::string>& flag_file,
                                        const std::optional<std::string>& env_token,
                                        const std::optional<std::string>& env_file) {
  if (flag_token && flag_file) throw std::invalid_argument("give --token or --token-file, not both");
  if (flag_file) return read_token_file(*flag_file, "--token-file");
  if (flag_token) return flag_token;
  if (env_token && env_file)
    throw std::invalid_argument("both AGENTQ_TOKEN and AGENTQ_TOKEN_FILE are set: unset one");
  if (env_file) return read_token_file(*env_file, "AGENTQ_TOKEN_FILE");
  return env_token;
}

}  // namespace agentq
