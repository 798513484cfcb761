#include "services/periodic_service.hpp"

#include <spdlog/spdlog.h>

namespace agentq {

periodic_service::periodic_service(periodic_config config, work run_once)
    : m_config(std::move(config)), m_run_once(std::move(run_once)) {}

periodic_service::~periodic_service() { stop(); }

void periodic_service::start() {
  std::lock_guard lock(m_mutex);
  if (m_thread.joinable()) return;
  m_stopping = false;
  m_thread = std::thread([this] { loop(); });
}

void periodic_service::stop() {
  std::thread thread;
  {
    std::lock_guard lock(m_mutex);
    m_stopping = true;
    thread.swap(m_thread);
  }
  m_wake.notify_all();
  if (thread.joinable()) thread.join();
}

bool periodic_service::running() const {
  std::lock_guard lock(m_mutex);
  return m_thread.joinable();
}

void periodic_service::loop() {
  // A clone of whatever the default logger is now (the server sets it up
  // after the services are made), named for the service.
  auto log = spdlog::default_logger()->clone(m_config.name);
  std::unique_lock lock(m_mutex);
  while (!m_stopping) {
    lock.unlock();
    try {
      if (int count = m_run_once(); count > 0) log->info("{} count={}", m_config.did, count);
    } catch (const std::exception& e) {
      log->warn("{} failed, will retry in {} ms error=\"{}\"", m_config.attempt,
                m_config.interval.count(), e.what());
    }
    lock.lock();
    m_wake.wait_for(lock, m_config.interval, [this] { return m_stopping; });
  }
}

}  // namespace agentq
