#include "services/retention.hpp"

#include <thread>

#include "store/store.hpp"

namespace agentq {

retention::retention(std::string database_url, retention_config config)
    : m_database_url(std::move(database_url)),
      m_config(std::move(config)),
      m_service({"retention", m_config.interval, "delete old finished tasks",
                 "deleted old finished tasks"},
                [this] { return look(); }) {}

retention::~retention() { stop(); }

int retention::delete_backlog(store& db) {
  int total = 0;
  for (;;) {
    auto batch = db.delete_finished_tasks(m_config.policy);
    if (batch.tasks > 0) {
      total += batch.tasks;
      if (m_config.on_deleted) m_config.on_deleted(batch.tasks);
    }
    if (batch.gave_up || batch.tasks < m_config.policy.batch || m_stopping) break;
    // A short breath between batches: each batch is its own transaction, so
    // claims and heartbeats interleave with a long backlog.
    std::this_thread::sleep_for(m_config.pause_between_batches);
  }
  return total;
}

int retention::run_once() {
  store db(m_database_url);
  return delete_backlog(db);
}

int retention::look() {
  try {
    if (!m_loop_store) m_loop_store = std::make_unique<store>(m_database_url);
    return delete_backlog(*m_loop_store);
  } catch (...) {
    m_loop_store.reset();  // reconnect on the next look
    throw;
  }
}

}  // namespace agentq
