#pragma once
// Child programs of the bench (pgbench, `agentq serve`): started with an
// argv, never through a shell, output into files the bench reads afterwards.

#include <map>
#include <string>
#include <vector>
#include <sys/types.h>

namespace agentq::bench {

class child_process {
 public:
  // Starts argv[0] (searched in PATH) with `extra_env` added to the
  // environment; stdout and stderr go to the two files.
  child_process(const std::vector<std::string>& argv, const std::string& stdout_path,
                const std::string& stderr_path,
                const std::map<std::string, std::string>& extra_env = {});
  ~child_process();  // a child still running gets SIGTERM, then is reaped
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  // Waits for the exit; the exit status, or 128 + signal.
  int wait();
  // SIGTERM (SIGKILL after `grace_ms`) and waits.
  int stop(int grace_ms = 5000);
  bool running();
  pid_t pid() const { return m_pid; }

 private:
  pid_t m_pid = -1;
  int m_status = -1;
};

std::string read_file(const std::string& path);

}  // namespace agentq::bench
