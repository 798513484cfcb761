#include "git/git_executor.hpp"

#include <algorithm>

#include <spdlog/spdlog.h>

namespace agentq::git {

git_executor::git_executor(git_executor_config config) : m_config(config) {
  m_config.threads = std::max(1, m_config.threads);
  m_config.per_remote = std::max(1, m_config.per_remote);
  for (int i = 0; i < m_config.threads; ++i) m_threads.emplace_back([this] { run_worker(); });
  m_threads.emplace_back([this] { run_timer(); });
}

git_executor::~git_executor() { stop(); }

void git_executor::post(std::string remote_key, clock::time_point deadline, work_fn work,
                        expired_fn on_expired) {
  {
    std::lock_guard lock(m_mutex);
    if (!m_stopping) {
      m_queue.push_back({std::move(remote_key), deadline, std::move(work), std::move(on_expired)});
      m_work_ready.notify_one();
      m_timer_wake.notify_one();
      return;
    }
  }
  call_safely(on_expired, "on_expired");  // stopped: nothing will run it
}

std::size_t git_executor::queued() const {
  std::lock_guard lock(m_mutex);
  return m_queue.size();
}

void git_executor::call_safely(const std::function<void()>& callback, const char* what) {
  if (!callback) return;
  try {
    callback();
  } catch (const std::exception& e) {
    spdlog::error("event=git_executor_callback_failed callback={} error=\"{}\"", what, e.what());
  } catch (...) {
    spdlog::error("event=git_executor_callback_failed callback={}", what);
  }
}

void git_executor::run_worker() {
  std::unique_lock lock(m_mutex);
  while (!m_stopping) {
    // The oldest job whose remote has a free slot; expired ones are left to
    // the timer (it answers them at their deadline).
    auto runnable = m_queue.end();
    const auto now = clock::now();
    for (auto it = m_queue.begin(); it != m_queue.end(); ++it) {
      if (it->deadline <= now) continue;
      if (m_running[it->remote_key] < m_config.per_remote) {
        runnable = it;
        break;
      }
    }
    if (runnable == m_queue.end()) {
      m_work_ready.wait(lock);
      continue;
    }
    job taken = std::move(*runnable);
    m_queue.erase(runnable);
    ++m_running[taken.remote_key];
    lock.unlock();
    call_safely([&] { taken.work(taken.deadline); }, "work");
    lock.lock();
    if (--m_running[taken.remote_key] == 0) m_running.erase(taken.remote_key);
    // A slot of that remote is free: a job waiting for it may go now.
    m_work_ready.notify_all();
  }
}

void git_executor::run_timer() {
  std::unique_lock lock(m_mutex);
  while (true) {
    std::vector<job> expired;
    const auto now = clock::now();
    auto next = clock::time_point::max();
    for (auto it = m_queue.begin(); it != m_queue.end();) {
      if (m_stopping || it->deadline <= now) {
        expired.push_back(std::move(*it));
        it = m_queue.erase(it);
      } else {
        next = std::min(next, it->deadline);
        ++it;
      }
    }
    if (!expired.empty()) {
      lock.unlock();
      for (auto& j : expired) {
        spdlog::debug("event=git_job_expired remote={}", j.remote_key);
        call_safely(j.on_expired, "on_expired");
      }
      lock.lock();
      continue;
    }
    if (m_stopping) return;
    if (next == clock::time_point::max())
      m_timer_wake.wait(lock);
    else
      m_timer_wake.wait_until(lock, next);
  }
}

void git_executor::stop() {
  {
    std::lock_guard lock(m_mutex);
    if (m_stopping && m_threads.empty()) return;
    m_stopping = true;
  }
  m_work_ready.notify_all();
  m_timer_wake.notify_all();
  for (auto& thread : m_threads) {
    if (!thread.joinable()) continue;
    if (thread.get_id() == std::this_thread::get_id())
      thread.detach();  // stop() from a callback: this thread ends on its own
    else
      thread.join();
  }
  std::lock_guard lock(m_mutex);
  m_threads.clear();
}

}  // namespace agentq::git
