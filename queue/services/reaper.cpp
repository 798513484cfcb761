#include "services/reaper.hpp"

#include "store/store.hpp"

namespace agentq {
namespace {

// Batches until the backlog is gone: after an outage there may be thousands.
int reap_backlog(store& db, const reaper_config& config) {
  const int batch = config.batch;
  int total = 0;
  for (int reaped; (reaped = db.reap_expired(batch)) > 0;) {
    total += reaped;
    if (config.on_returned) config.on_returned(reaped);
    if (reaped < batch) break;
  }
  return total;
}

}  // namespace

reaper::reaper(std::string database_url, reaper_config config)
    : m_database_url(std::move(database_url)),
      m_config(std::move(config)),
      m_service({"reaper", m_config.interval, "return expired claims", "returned expired claims"},
                [this] { return look(); }) {}

reaper::~reaper() { stop(); }

int reaper::run_once() {
  store db(m_database_url);
  return reap_backlog(db, m_config);
}

int reaper::look() {
  try {
    if (!m_loop_store) m_loop_store = std::make_unique<store>(m_database_url);
    return reap_backlog(*m_loop_store, m_config);
  } catch (...) {
    m_loop_store.reset();  // reconnect on the next look
    throw;
  }
}

}  // namespace agentq
