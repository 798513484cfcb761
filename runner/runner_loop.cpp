#include "runner/runner_loop.hpp"

#include <csignal>
#include <iostream>
#include <map>
#include <thread>

#include <pthread.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "core/safe_log_formatter.hpp"
#include "runner/job_steps.hpp"
#include "runner/queue_api.hpp"

namespace agentq::runner {

using nlohmann::json;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

runner_loop::runner_loop(runner_profile profile, runner_config config)
    : m_profile(std::move(profile)),
      m_config(std::move(config)), m_workspace(m_config.workdir),
      m_health(m_config.unhealthy_after, m_config.unhealthy_backoff,
               m_config.unhealthy_backoff_max),
      m_idle_since(steady::now()) {}

void runner_loop::request_stop() {
  if (!m_stop.stopping())
    spdlog::info("event=stopping reason=signal stop_grace_s={} note=\"no new claims\"",
                 m_config.stop_grace.count());
  m_stop.request_stop(m_config.stop_grace);
  m_wake.notify_all();
}

void runner_loop::request_abort() {
  spdlog::warn("event=stopping reason=second_signal note=\"commands in hand are stopped now\"");
  m_stop.request_abort();
  m_wake.notify_all();
}

void runner_loop::wait_for_slot() {
  std::unique_lock lock(m_mutex);
  m_wake.wait(lock, [&] { return m_active < m_config.slots || m_stop.stopping(); });
}

bool runner_loop::ready_to_probe() {
  if (!m_health.unhealthy()) return true;
  {
    std::unique_lock lock(m_mutex);
    m_wake.wait(lock, [&] { return m_active == 0 || m_stop.stopping(); });
  }
  if (m_stop.stopping() || !m_health.unhealthy()) return true;
  auto wait = m_health.resume_at() - steady::now();
  if (wait <= steady::duration::zero()) {
    spdlog::info("event=probe note=\"claiming one task to see whether the agent runs now\"");
    return true;
  }
  sleep_interruptibly(std::chrono::ceil<std::chrono::milliseconds>(wait));
  return false;
}

bool runner_loop::sleep_interruptibly(std::chrono::milliseconds duration) {
  std::unique_lock lock(m_mutex);
  return !m_wake.wait_for(lock, duration, [&] { return m_stop.stopping(); });
}

int runner_loop::run() {
  const std::string& name = m_profile.program;
  job_context ctx{m_config, m_workspace, m_stop, m_health};

  std::unique_ptr<queue_api> api;
  try {
    api = std::make_unique<queue_api>(m_config.server, m_config.token);
  } catch (const std::invalid_argument& e) {
    spdlog::error("event=bad_server_url error=\"{}\"", e.what());
    return exit_code::usage;
  }
  spdlog::info("event=started program={} server={} workdir={} slots={} queues={}", name,
               m_config.server, m_workspace.workdir().string(), m_config.slots,
               m_config.queues.empty() ? std::string("*") : json(m_config.queues).dump());

  // Ask who this token is before the first claim: a token of another role
  // would otherwise claim a task this program cannot work on, and use up
  // one of the task's attempts handing it back. (The check after each claim
  // below stays, for servers without /v1/whoami.)
  const std::string& expected_role = m_profile.role;
  try {
    auto role = api->whoami_role();
    if (role && *role != expected_role) {
      spdlog::error("event=wrong_role program={} token_role={} hint=\"give {} a {} agent's token\"",
                    name, *role, name, expected_role);
      return exit_code::refused;
    }
  } catch (const http_unreachable&) {
    // The claim loop reports an unreachable server and decides what to do.
  } catch (const api_refused& e) {
    spdlog::error("event=refused status={} error=\"{}\"", e.status, e.what());
    return exit_code::refused;
  }

  // Job threads by number; finished ones are joined as the loop goes, so a
  // runner that lives for weeks does not pile up ended threads.
  std::map<int, std::thread> jobs;
  auto join_finished = [&] {
    std::vector<int> done;
    {
      std::lock_guard lock(m_mutex);
      done.swap(m_finished);
    }
    for (int n : done) {
      auto it = jobs.find(n);
      if (it == jobs.end()) continue;
      it->second.join();
      jobs.erase(it);
    }
  };
  int claimed = 0;
  int exit_status = exit_code::ok;
  bool reached_server = false;
  bool unreachable_now = false;
  auto backoff = 500ms;

  for (;;) {
    join_finished();
    if (m_config.max_tasks > 0 && claimed >= m_config.max_tasks) {
      spdlog::info("event=max_tasks_reached max_tasks={}", m_config.max_tasks);
      break;
    }
    wait_for_slot();
    if (m_stop.stopping()) break;
    if (!ready_to_probe()) continue;
    if (m_stop.stopping()) break;

    int wait_s = m_config.wait_s;
    if (m_config.idle_exit_s > 0) {
      std::unique_lock lock(m_mutex);
      if (m_active == 0) {
        auto idle = std::chrono::duration_cast<std::chrono::seconds>(steady::now() - m_idle_since);
        if (idle.count() >= m_config.idle_exit_s) {
          spdlog::info("event=idle_exit idle_s={}", idle.count());
          if (unreachable_now) exit_status = exit_code::unreachable;
          break;
        }
        wait_s = std::min<int>(wait_s, static_cast<int>(m_config.idle_exit_s - idle.count()));
      }
    }

    std::optional<json> answer;
    auto claimed_at = steady::now();
    try {
      answer = api->claim(m_config.queues, wait_s, m_config.lease_s);
      reached_server = true;
      unreachable_now = false;
      backoff = 500ms;
    } catch (const http_unreachable& e) {
      if (!reached_server) {
        spdlog::error("event=server_unreachable server={} error=\"{}\" hint=\"check --server / "
                      "AGENTQ_SERVER and that `agentq serve` runs\"",
                      m_config.server, e.what());
        exit_status = exit_code::unreachable;
        break;
      }
      unreachable_now = true;
      spdlog::warn("event=server_unreachable server={} error=\"{}\" retry_in_ms={}", m_config.server,
                   e.what(), backoff.count());
      sleep_interruptibly(backoff);
      backoff = std::min<std::chrono::milliseconds>(backoff * 2, 30s);
      continue;
    } catch (const api_refused& e) {
      spdlog::error("event=refused status={} error=\"{}\"", e.status, e.what());
      exit_status = (e.status == 401 || e.status == 403) ? exit_code::refused : exit_code::usage;
      break;
    } catch (const std::exception& e) {
      reached_server = true;
      spdlog::warn("event=claim_failed error=\"{}\" retry_in_ms={}", e.what(), backoff.count());
      sleep_interruptibly(backoff);
      backoff = std::min<std::chrono::milliseconds>(backoff * 2, 30s);
      continue;
    }
    if (!answer) continue;  // nothing within wait_s

    const std::string granted_role = answer->at("claim").value("role", expected_role);
    if (granted_role != expected_role) {
      // The server claims by the token's role: a token of another role got
      // another kind of task. Hand it back untouched; this program cannot
      // do that work.
      queue_api back(m_config.server, m_config.token);
      auto id = answer->at("task").at("id").get<std::int64_t>();
      auto token = answer->at("claim").at("token").get<std::int64_t>();
      back.release(id, token, name + " holds a " + granted_role +
                                  " token: released untouched", true);
      spdlog::error("event=wrong_role program={} token_role={} hint=\"give {} a {} agent's token\"",
                    name, granted_role, name, expected_role);
      exit_status = exit_code::refused;
      break;
    }

    if (m_stop.stopping()) {
      // The signal came during the long-poll: give this one straight back.
      queue_api late(m_config.server, m_config.token);
      auto id = answer->at("task").at("id").get<std::int64_t>();
      auto token = answer->at("claim").at("token").get<std::int64_t>();
      auto reply = late.release(id, token, name + " stopping: released unstarted", true);
      spdlog::info("event=released task={} token={} reason=stopping ok={}", id, token, reply.ok());
      break;
    }

    ++claimed;
    {
      std::lock_guard lock(m_mutex);
      ++m_active;
    }
    const int number = claimed;
    jobs[number] = std::thread([this, &ctx, number, claimed_at, answer = std::move(*answer)] {
      job_result result = job_result::failed;
      try {
        result = m_profile.job(ctx, answer, claimed_at);
      } catch (const std::exception& e) {
        spdlog::error("event=job_crashed error=\"{}\"", e.what());
      }
      spdlog::info("event=job_done task={} result={}", answer.at("task").value("id", 0),
                   to_string(result));
      {
        std::lock_guard lock(m_mutex);
        --m_active;
        if (m_active == 0) m_idle_since = steady::now();
        m_finished.push_back(number);
      }
      m_wake.notify_all();
    });
  }

  {
    std::unique_lock lock(m_mutex);
    if (m_active > 0) spdlog::info("event=waiting_for_tasks active={}", m_active);
  }
  for (auto& [n, t] : jobs) t.join();
  spdlog::info("event=exit program={} tasks={} code={}", name, claimed, exit_status);
  return exit_status;
}

void handle_signals(runner_loop& loop) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
  std::thread([&loop, set] {
    int count = 0;
    for (;;) {
      int sig = 0;
      if (sigwait(&set, &sig) != 0) continue;
      if (++count == 1) loop.request_stop();
      else loop.request_abort();
    }
  }).detach();
}

int runner_main(const runner_profile& profile, int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  auto parsed = parse_config(profile.command_variable, args, process_environment());
  if (parsed.help) {
    std::cout << profile.usage;
    return exit_code::ok;
  }
  if (!parsed.config) {
    std::cerr << profile.program << ": " << parsed.error << "\n(see " << profile.program
              << " --help)\n";
    return exit_code::usage;
  }
  auto logger = spdlog::stderr_color_mt(profile.program);
  // Every message escaped and its URL credentials masked: a task's title, a
  // git error or an agent's output must neither forge log lines nor leak.
  logger->set_formatter(std::make_unique<safe_log_formatter>(
      "%Y-%m-%dT%H:%M:%S.%e %^%l%$ [%n] %v", spdlog::pattern_time_type::local));
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::from_str(parsed.config->log_level));
  try {
    runner_loop loop(profile, std::move(*parsed.config));
    handle_signals(loop);
    return loop.run();
  } catch (const std::exception& e) {
    spdlog::error("event=fatal error=\"{}\"", e.what());
    return exit_code::failure;
  }
}

}  // namespace agentq::runner
