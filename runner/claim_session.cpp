#include "runner/claim_session.hpp"

#include <csignal>
#include <fstream>

#include <spdlog/spdlog.h>
#include "core/defaults.hpp"

namespace agentq::runner {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace std::chrono_literals;

void stop_state::request_stop(std::chrono::seconds grace) {
  auto deadline = std::chrono::steady_clock::now() + grace;
  std::int64_t ns = std::chrono::duration_cast<std::chrono::nanoseconds>(deadline.time_since_epoch()).count();
  std::int64_t current = m_deadline_ns.load();
  while (ns < current && !m_deadline_ns.compare_exchange_weak(current, ns)) {
  }
  m_stopping = true;
}

void stop_state::request_abort() {
  m_stopping = true;
  m_abort = true;
}

bool stop_state::must_abort() const {
  if (m_abort) return true;
  if (!m_stopping) return false;
  auto now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                 std::chrono::steady_clock::now().time_since_epoch()).count();
  return now >= m_deadline_ns.load();
}

const char* to_string(command_result::kind outcome) {
  switch (outcome) {
    case command_result::kind::exited: return "exited";
    case command_result::kind::timed_out: return "timed_out";
    case command_result::kind::stopped: return "stopped";
    case command_result::kind::lease_lost: return "lease_lost";
  }
  return "?";
}

void write_file_atomically(const fs::path& path, const std::string& content) {
  fs::create_directories(path.parent_path());
  fs::path tmp = path;
  tmp += ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << content;
    if (!out) throw std::runtime_error("cannot write " + tmp.string());
  }
  fs::rename(tmp, path);
}

claim_session::claim_session(const job_context& ctx, json answer, lease_clock::time_point claimed_at)
    : m_ctx(ctx), m_answer(std::move(answer)) {
  const json& claim = m_answer.at("claim");
  m_task_id = m_answer.at("task").at("id").get<std::int64_t>();
  m_token = claim.at("token").get<std::int64_t>();
  int lease_s = claim.value("lease_s", ctx.config.lease_s.value_or(defaults::lease_s));
  int first_lease_s = claim.value("first_lease_s", lease_s);
  m_api = std::make_unique<queue_api>(ctx.config.server, ctx.config.token);
  m_beat_api = std::make_shared<queue_api>(ctx.config.server, ctx.config.token);

  auto beat_api = m_beat_api;
  std::int64_t task_id = m_task_id, token = m_token;
  m_keeper = std::make_unique<lease_keeper>(
      std::chrono::seconds(lease_s), claimed_at,
      [beat_api, task_id, token](const std::string& progress, std::chrono::milliseconds limit) {
        auto reply = beat_api->heartbeat(task_id, token, progress, limit);
        if (reply.outcome == heartbeat_reply::kind::renewed)
          spdlog::debug("event=heartbeat task={} token={}", task_id, token);
        else
          spdlog::warn("event=heartbeat_failed task={} token={} error=\"{}\"", task_id, token,
                       reply.detail);
        return reply;
      },
      [this] {
        std::lock_guard lock(m_mutex);
        return m_process ? m_process->output().last_line() : m_phase;
      },
      [this](const std::string& why) { on_lease_lost(why); }, std::chrono::seconds(first_lease_s));
}

claim_session::~claim_session() { m_keeper->stop(); }

void claim_session::set_phase(const std::string& phase) {
  std::lock_guard lock(m_mutex);
  m_phase = phase;
}

void claim_session::on_lease_lost(const std::string& why) {
  if (m_final_call) {
    // The command has ended and the final call is in flight: a refused beat
    // most likely means that call has landed. Its answer decides.
    spdlog::info("event=heartbeat_refused_during_final_call task={} token={} reason=\"{}\"",
                 m_task_id, m_token, why);
    return;
  }
  // Runs on the keeper's thread: kill first, talk later.
  {
    std::lock_guard lock(m_mutex);
    if (m_process) m_process->kill_group(SIGKILL);
  }
  spdlog::error("event=lease_lost task={} token={} reason=\"{}\" action=killed_command_push_nothing",
                m_task_id, m_token, why);
}

command_result claim_session::run_command(const fs::path& dir, const json& task_file) {
  const auto& config = m_ctx.config;
  fs::path file = m_ctx.workspace.task_file(m_task_id, m_token);
  write_file_atomically(file, task_file.dump(2));

  process_spec spec;
  spec.command = config.command;
  spec.cwd = dir;
  spec.env_set = {{"AGENTQ_TASK_ID", std::to_string(m_task_id)},
                  {"AGENTQ_TASK_FILE", file.string()},
                  {"AGENTQ_WORKDIR", m_ctx.workspace.workdir().string()}};
  // The runner's credentials are not the agent's business: agent_process
  // drops every one of them (is_runner_secret).

  const std::int64_t task_id = m_task_id;
  command_result result;
  agent_process process(spec, [task_id](const std::string& line) {
    spdlog::info("task={} | {}", task_id, line);
  });
  spdlog::info("event=command_started task={} token={} pid={} dir={}", m_task_id, m_token,
               process.pid(), dir.string());
  {
    std::lock_guard lock(m_mutex);
    m_process = &process;
  }
  if (m_keeper->lost()) process.kill_group(SIGKILL);  // lost before we attached

  const auto started = std::chrono::steady_clock::now();
  const auto deadline = started + config.task_timeout;
  std::optional<exit_status> status;
  while (!(status = process.wait_for(200ms))) {
    if (m_keeper->lost()) {
      process.kill_group(SIGKILL);
      continue;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      spdlog::warn("event=command_timeout task={} timeout_s={}", m_task_id,
                   config.task_timeout.count());
      status = process.terminate(config.kill_grace);
      result.outcome = command_result::kind::timed_out;
      break;
    }
    if (m_ctx.stop.must_abort()) {
      spdlog::warn("event=command_stopped task={} reason=runner_stopping", m_task_id);
      status = process.terminate(config.kill_grace);
      result.outcome = command_result::kind::stopped;
      break;
    }
  }
  {
    std::lock_guard lock(m_mutex);
    m_process = nullptr;
    m_phase = "command finished";
  }
  result.status = *status;
  result.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - started);
  if (m_keeper->lost()) result.outcome = command_result::kind::lease_lost;
  result.summary_lines = process.output().last_lines(20);
  result.output = process.output().tail_text();
  result.last_line = process.output().last_line();
  spdlog::info("event=command_ended task={} token={} status=\"{}\" outcome={}", m_task_id, m_token,
               result.status.describe(), to_string(result.outcome));
  std::error_code ec;
  fs::remove(file, ec);
  return result;
}

}  // namespace agentq::runner
