#include "http/db_pool.hpp"

#include <spdlog/spdlog.h>

#include "store/database_unavailable.hpp"

namespace agentq {

store& db_slot::get() {
  if (m_store) return *m_store;
  const auto now = std::chrono::steady_clock::now();
  if (m_failed && now - m_failed_at < m_reconnect_pause)
    throw database_unavailable("the database was unreachable moments ago");
  try {
    m_store = std::make_unique<store>(m_url);
  } catch (const database_unavailable& e) {
    if (!m_failed) spdlog::warn("event=db_connect_failed error=\"{}\"", e.what());
    m_failed = true;
    m_failed_at = now;
    throw;
  }
  if (m_failed) spdlog::info("event=db_reconnected");
  m_failed = false;
  return *m_store;
}

void db_slot::drop() {
  // One broken connection (a killed backend, a restarted pooler) says nothing
  // about the database: the next get() connects at once. Only a refused
  // connect starts the pause, so an unreachable database fails fast.
  m_store.reset();
}

db_pool::db_pool(std::string database_url, int size, std::chrono::milliseconds reconnect_pause,
                 int reserved)
    : m_url(std::move(database_url)), m_reconnect_pause(reconnect_pause) {
  for (int i = 0; i < size; ++i) m_threads.emplace_back([this] { run(false); });
  for (int i = 0; i < reserved; ++i) m_threads.emplace_back([this] { run(true); });
}

db_pool::~db_pool() { stop(); }

void db_pool::post(job work, lane which) {
  {
    std::lock_guard lock(m_mutex);
    if (m_stopping) return;
    (which == lane::short_call ? m_short_jobs : m_jobs).push_back(std::move(work));
  }
  if (which == lane::short_call) m_wake_short.notify_one();
  m_wake.notify_one();
}

std::size_t db_pool::queued() const {
  std::lock_guard lock(m_mutex);
  return m_jobs.size() + m_short_jobs.size();
}

void db_pool::stop() {
  {
    std::lock_guard lock(m_mutex);
    m_stopping = true;
  }
  m_wake.notify_all();
  m_wake_short.notify_all();
  for (auto& t : m_threads)
    if (t.joinable()) t.join();
}

void db_pool::run(bool short_only) {
  db_slot slot(m_url, m_reconnect_pause);
  while (true) {
    job work;
    {
      std::unique_lock lock(m_mutex);
      auto& wake = short_only ? m_wake_short : m_wake;
      wake.wait(lock, [&] {
        return m_stopping || !m_short_jobs.empty() || (!short_only && !m_jobs.empty());
      });
      auto& from = !m_short_jobs.empty() ? m_short_jobs : m_jobs;
      if (from.empty() || (short_only && &from == &m_jobs)) return;  // stopping, nothing left
      work = std::move(from.front());
      from.pop_front();
    }
    try {
      work(slot);
    } catch (const database_unavailable& e) {
      // Jobs answer their caller themselves; this is the backstop.
      spdlog::warn("event=db_job_failed error=\"{}\"", e.what());
      slot.drop();
    } catch (const std::exception& e) {
      spdlog::error("event=db_job_failed error=\"{}\"", e.what());
    }
  }
}

}  // namespace agentq
