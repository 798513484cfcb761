#include "services/reaper.hpp"

#include <memory>

#include <spdlog/spdlog.h>

#include "store/store.hpp"

namespace agentq {
namespace {

// Batches until the backlog is gone: after an outage there may be thousands.
int reap_backlog(store& db, int batch) {
  int total = 0;
  for (int reaped; (reaped = db.reap_expired(batch)) > 0;) {
    total += reaped;
    if (reaped < batch) break;
  }
  return total;
}

}  // namespace

reaper::reaper(std::string database_url, reaper_config config)
    : m_database_url(std::move(database_url)), m_config(config) {}

reaper::~reaper() { stop(); }

int reaper::run_once() {
  store db(m_database_url);
  return reap_backlog(db, m_config.batch);
}

void reaper::start() {
  std::lock_guard lock(m_mutex);
  if (m_thread.joinable()) return;
  m_stopping = false;
  m_thread = std::thread([this] { loop(); });
}

void reaper::stop() {
  {
    std::lock_guard lock(m_mutex);
    m_stopping = true;
  }
  m_wake.notify_all();
  if (m_thread.joinable()) m_thread.join();
}

void reaper::loop() {
  auto log = spdlog::default_logger()->clone("reaper");
  std::unique_ptr<store> db;
  std::unique_lock lock(m_mutex);
  while (!m_stopping) {
    lock.unlock();
    try {
      if (!db) db = std::make_unique<store>(m_database_url);
      int total = reap_backlog(*db, m_config.batch);
      if (total > 0) log->info("returned expired claims count={}", total);
    } catch (const std::exception& e) {
      db.reset();  // reconnect on the next look
      log->warn("look failed, will retry error=\"{}\"", e.what());
    }
    lock.lock();
    m_wake.wait_for(lock, m_config.interval, [this] { return m_stopping; });
  }
}

}  // namespace agentq
