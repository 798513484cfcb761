#pragma once
// One claim in a runner's hands, from the claim answer to the final call:
// its lease keeper (heartbeats on a connection of its own), the command it
// runs, and what ended that command. Every program's job is built on it, so
// the lease rules live in one place.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "runner/agent_process.hpp"
#include "runner/git_workspace.hpp"
#include "runner/lease_keeper.hpp"
#include "runner/queue_api.hpp"
#include "runner/runner_config.hpp"

namespace agentq::runner {

// The runner's shutdown, as the jobs see it: after the first SIGTERM no new
// claims and a task may run until `deadline`; after a second one (or past
// the deadline) it is stopped and released.
class stop_state {
 public:
  void request_stop(std::chrono::seconds grace);
  void request_abort();
  bool stopping() const { return m_stopping.load(); }
  // True when a running command must be stopped now.
  bool must_abort() const;

 private:
  std::atomic<bool> m_stopping{false};
  std::atomic<bool> m_abort{false};
  std::atomic<std::int64_t> m_deadline_ns{INT64_MAX};
};

// Everything a job needs besides its claim answer.
class agent_health;

struct job_context {
  const runner_config& config;
  git_workspace& workspace;
  stop_state& stop;
  agent_health& health;  // runner/agent_health.hpp
};

// How a command run under a lease ended.
struct command_result {
  enum class kind {
    exited,     // the command ended by itself: see status
    timed_out,  // --task-timeout ran out; the group was killed
    stopped,    // the runner is shutting down; the group was killed
    lease_lost  // the lease keeper killed the group
  };
  kind outcome = kind::exited;
  exit_status status;
  std::string summary_lines;  // the last 20 lines of output
  std::string output;         // the last ~60 KiB of output
  std::string last_line;
  std::chrono::milliseconds elapsed{0};  // from start to end
};

const char* to_string(command_result::kind outcome);

class claim_session {
 public:
  // claimed_at: when the claim request was sent (the lease counts from then).
  claim_session(const job_context& ctx, nlohmann::json answer, lease_clock::time_point claimed_at);
  ~claim_session();

  std::int64_t task_id() const { return m_task_id; }
  std::int64_t token() const { return m_token; }
  const nlohmann::json& answer() const { return m_answer; }
  repo_info repo() const { return repo_info::from_json(m_answer.value("repo", nlohmann::json::object())); }

  // What the heartbeat reports while no command runs ("fetching", "pushing").
  void set_phase(const std::string& phase);

  // Runs the command in `dir` under the lease, --task-timeout and the
  // runner's shutdown; writes the task file first.
  command_result run_command(const std::filesystem::path& dir, const nlohmann::json& task_file);

  bool lease_lost() const { return m_keeper->lost(); }
  std::string lease_lost_reason() const { return m_keeper->lost_reason(); }

  // Stops heartbeating: before a release, and when the final call is
  // answered (see final_call in job_steps.hpp).
  void stop_heartbeats() { m_keeper->stop(); }
  // The final call is on its way: from now on a refused heartbeat means it
  // has landed (or lost), and its answer decides; nothing is killed for it.
  void begin_final_call() { m_final_call = true; }

  // The final calls, on the job's own connection.
  queue_api& api() { return *m_api; }

 private:
  void on_lease_lost(const std::string& why);

  const job_context& m_ctx;
  nlohmann::json m_answer;
  std::int64_t m_task_id = 0;
  std::int64_t m_token = 0;
  std::unique_ptr<queue_api> m_api;
  std::shared_ptr<queue_api> m_beat_api;
  std::mutex m_mutex;  // guards m_process and m_phase
  agent_process* m_process = nullptr;
  std::string m_phase = "starting";
  std::atomic<bool> m_final_call{false};
  std::unique_ptr<lease_keeper> m_keeper;
};

// Writes `content` to `path` whole (temporary file, then rename).
void write_file_atomically(const std::filesystem::path& path, const std::string& content);

}  // namespace agentq::runner
