#pragma once
// Real child processes for the HTTP tests: `agentq serve` on a free port
// against a test database, and one-shot `agentq` CLI runs. Nothing is left
// running: a server_process is stopped (SIGTERM, then SIGKILL) when it goes.

#include <sys/types.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace agentq::testing {

inline const std::string admin_token = "test-admin-token-0123456789abcdef";

// AGENTQ_REPO_ROOTS of the tests' servers: /tmp and the temporary directory,
// where every test repository is made.
std::string test_repo_roots();

// A fresh temporary directory, removed with the object.
class temp_dir {
 public:
  temp_dir();
  ~temp_dir();
  const std::filesystem::path& path() const { return m_path; }

 private:
  std::filesystem::path m_path;
};

class server_process {
 public:
  // Starts `agentq serve --listen 127.0.0.1:0` and waits for its "listening
  // on" line. extra: more flags. max_open_files: when not 0, the server's
  // descriptor limit (soft and hard, as `prlimit --nofile=N:N` sets it).
  explicit server_process(const std::string& database_url,
                          const std::vector<std::string>& extra = {},
                          unsigned max_open_files = 0);
  ~server_process();
  server_process(const server_process&) = delete;
  server_process& operator=(const server_process&) = delete;

  std::string url() const { return "http://127.0.0.1:" + std::to_string(m_port); }
  int port() const { return m_port; }
  pid_t pid() const { return m_pid; }

  // SIGTERM and wait; answers the exit status (or 128+signal).
  int terminate();
  std::string log() const;  // its stderr so far

 private:
  temp_dir m_dir;
  pid_t m_pid = -1;
  int m_stdout = -1;  // kept open: a closed pipe would SIGPIPE the server
  int m_port = 0;
};

struct cli_result {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs the agentq binary with these arguments and extra environment.
cli_result run_agentq(const std::vector<std::string>& args,
                      const std::map<std::string, std::string>& env = {});

// The value of a server's /metrics line `name` (first match), or -1.
double metric(const std::string& server_url, const std::string& name);

// Makes an agent through the server's admin API; answers its token.
std::string make_agent(const std::string& server_url, const std::string& name,
                       const std::string& role);

// Runs a shell command; answers its stdout without the last newline. Throws
// when it fails.
std::string sh(const std::string& command);

// A bare repository with a main branch, and a clone to push claim branches
// from (git CLI, only to set the scene).
struct repo_on_disk {
  repo_on_disk();
  temp_dir dir;
  std::string bare;
  std::string work;
  // Commits a change and pushes it to `branch` (forced); answers the commit.
  std::string push(const std::string& branch, const std::string& text);
};

}  // namespace agentq::testing
