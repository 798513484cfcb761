#pragma once
// Shared pieces of the `agentq` admin commands: argument lists, the call to
// the server with its exit codes, and plain-text tables.
//
// Exit codes (scripts rely on them):
//   0 ok   1 the server refused (its error code and message are printed)
//   2 usage error   3 the server could not be reached

#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace agentq::cli {

enum exit_code { exit_ok = 0, exit_refused = 1, exit_usage = 2, exit_unreachable = 3 };

// Ends the command with this exit code; main() prints `message` to stderr.
struct cli_exit : std::runtime_error {
  cli_exit(int code, const std::string& message) : std::runtime_error(message), code(code) {}
  int code;
};

[[noreturn]] inline void usage_error(const std::string& message) {
  throw cli_exit(exit_usage, message);
}

// --name value, --name=value, and flags; everything else is positional.
class arg_list {
 public:
  arg_list(const std::vector<std::string>& args, const std::set<std::string>& options,
           const std::set<std::string>& flags);

  std::optional<std::string> value(const std::string& name) const;
  std::vector<std::string> values(const std::string& name) const;  // repeated options
  bool flag(const std::string& name) const { return m_flags.count(name) > 0; }
  const std::vector<std::string>& positionals() const { return m_positionals; }
  // The positional at `index`, or a usage error naming `what`.
  const std::string& positional(std::size_t index, const std::string& what) const;
  void expect_positionals(std::size_t count) const;

 private:
  std::multimap<std::string, std::string> m_values;
  std::set<std::string> m_flags;
  std::vector<std::string> m_positionals;
};

int parse_int(const std::string& text, const std::string& what);

// Where the server is and who we are: --server/--token, else AGENTQ_SERVER /
// AGENTQ_TOKEN.
struct connection_options {
  std::string server;
  std::string token;
};

// One call to the server. Answers the JSON body of a 2xx; throws cli_exit
// with exit_refused (the server's error) or exit_unreachable.
nlohmann::json call(const connection_options& conn, const std::string& method,
                    const std::string& target, const nlohmann::json& body = nullptr,
                    int* status = nullptr);

std::string url_encode(const std::string& text);

// A plain-text table: a header row, then rows, columns padded; cells are cut
// to `max_width` characters.
void print_table(const std::vector<std::string>& header,
                 const std::vector<std::vector<std::string>>& rows, std::size_t max_width = 48);

std::string first_line(const std::string& text);
// A JSON value as a cell: strings bare, null as "-", others dumped.
std::string cell(const nlohmann::json& value);

// The commands, one file each. args: what follows the noun.
int run_serve(const std::vector<std::string>& args);
int run_migrate(const std::vector<std::string>& args);
int run_task(const connection_options& conn, const std::vector<std::string>& args);
int run_agent(const connection_options& conn, const std::vector<std::string>& args);
int run_repo(const connection_options& conn, const std::vector<std::string>& args);
int run_disagreements(const connection_options& conn, const std::vector<std::string>& args);
int run_health(const connection_options& conn, const std::vector<std::string>& args);

}  // namespace agentq::cli
