#pragma once
// A program's command (from its profile's command variable), run through
// `/bin/sh -c` in a directory of its own, as the leader of its OWN process
// group: whatever it starts (an editor, a test run, a language server) is in
// that group too, so one killpg stops all of it. stdin is /dev/null; stdout
// and stderr go into one pipe that a reader thread splits into lines for the
// log and the output_tail.
//
// A process that leaves the group on purpose (setsid, a daemon) escapes the
// group kill, so when the command ends (exit, timeout, cancel, lease lost)
// the runner also kills every process that carries the command's
// AGENTQ_RUN_ID in its environment, and every orphan it adopted as the
// subreaper (PR_SET_CHILD_SUBREAPER) that does not belong to another running
// command, until none is left. Linux only.

#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <sys/types.h>

#include "runner/output_tail.hpp"

namespace agentq::runner {

struct process_spec {
  std::string command;                // given to /bin/sh -c
  std::filesystem::path cwd;
  std::vector<std::pair<std::string, std::string>> env_set;  // added or replaced
  std::vector<std::string> env_unset;                          // removed (secrets)
};

// Whether the runner's environment variable `name` holds one of its secrets
// (agentq tokens, git credentials, the ssh-agent socket, ...): those never
// reach a command, whatever its process_spec says.
bool is_runner_secret(std::string_view name);

struct exit_status {
  bool exited = false;  // true: exit(code); false: killed by `signal`
  int code = 0;
  int signal = 0;

  bool success() const { return exited && code == 0; }
  std::string describe() const;  // "exit code 3", "killed by signal 9 (SIGKILL)"
};

class agent_process {
 public:
  using line_sink = std::function<void(const std::string& line)>;

  // Starts the command; throws std::system_error when it cannot. on_line runs
  // on the reader thread for each line (lines longer than 4096 bytes are cut
  // into pieces).
  agent_process(const process_spec& spec, line_sink on_line = {});
  // Kills the group if the command still runs, and joins the reader.
  ~agent_process();
  agent_process(const agent_process&) = delete;
  agent_process& operator=(const agent_process&) = delete;

  pid_t pid() const { return m_pid; }

  // Waits up to `timeout` for the command (the group's leader) to end. Once it
  // has, the rest of its group is killed (nothing may go on writing in the
  // checkout), the output is read to its end (at most ~1 s more), and every
  // later call answers the same status at once.
  std::optional<exit_status> wait_for(std::chrono::milliseconds timeout);

  // Sends `sig` to the whole process group. Safe from any thread, and a no-op
  // once the group is gone.
  void kill_group(int sig);

  // Timeout path: SIGTERM to the group, up to `grace` for it to end, then
  // SIGKILL. Answers the final status.
  exit_status terminate(std::chrono::milliseconds grace);

  const output_tail& output() const { return m_output; }

 private:
  void read_output(int fd);
  void finish();
  // Kills (SIGKILL) what the command left outside its group; reaps what this
  // process adopted. Once, after the leader is reaped.
  void end_descendants();

  pid_t m_pid = -1;
  std::string m_run_id;  // AGENTQ_RUN_ID of the command and all it starts
  std::atomic<bool> m_descendants_ended{false};
  std::mutex m_mutex;  // guards m_status and the group's liveness for kill_group
  std::optional<exit_status> m_status;
  bool m_group_gone = false;
  std::thread m_reader;
  int m_read_fd = -1;
  line_sink m_on_line;
  output_tail m_output;
  std::chrono::steady_clock::time_point m_drain_deadline = std::chrono::steady_clock::time_point::max();
  std::mutex m_drain_mutex;
};

}  // namespace agentq::runner
