#include "http/event_waiters.hpp"

#include <limits>
#include <vector>

#include <spdlog/spdlog.h>

#include "http/routes/route_support.hpp"
#include "store/database_unavailable.hpp"

namespace agentq {

using clock = std::chrono::steady_clock;

event_waiters::event_waiters(db_pool& pool, event_waiters_config config)
    : m_pool(pool), m_config(config) {}

event_waiters::~event_waiters() { shutdown(); }

void event_waiters::start() { m_timer = std::thread([this] { timer_loop(); }); }

void event_waiters::shutdown() {
  std::map<std::uint64_t, entry> ended;
  {
    std::lock_guard lock(m_mutex);
    m_stopping = true;
    ended.swap(m_entries);
  }
  m_wake.notify_all();
  for (auto& [id, e] : ended) e.done(request_handler::no_content());
  if (m_timer.joinable() && m_timer.get_id() != std::this_thread::get_id()) m_timer.join();
}

std::uint64_t event_waiters::park(parked_events poll, completion done) {
  std::unique_lock lock(m_mutex);
  if (m_stopping) {
    lock.unlock();
    done(request_handler::no_content());
    return 0;
  }
  const auto id = m_next_id++;
  const auto deadline = clock::now() + std::chrono::seconds(poll.wait_s);
  m_entries.emplace(id, entry{poll, deadline, std::move(done)});
  return id;
}

void event_waiters::cancel(std::uint64_t id) {
  std::lock_guard lock(m_mutex);
  m_entries.erase(id);
}

std::size_t event_waiters::size() const {
  std::lock_guard lock(m_mutex);
  return m_entries.size();
}

void event_waiters::timer_loop() {
  std::unique_lock lock(m_mutex);
  while (!m_stopping) {
    m_wake.wait_for(lock, m_config.poll_interval);
    if (m_stopping || m_entries.empty() || m_checking) continue;
    m_checking = true;
    lock.unlock();
    m_pool.post([this](db_slot& slot) { answer_due(slot); });
    lock.lock();
  }
}

// On a pool thread: one query for the newest event id, then the page of
// events for each poll behind it, and an empty page for the overdue.
void event_waiters::answer_due(db_slot& slot) {
  std::vector<entry> due;
  std::vector<http_reply> replies;  // replies[i] answers due[i]
  try {
    store& db = slot.get();
    const auto newest = db.events_after(std::numeric_limits<std::int64_t>::max(), 1)["last_id"]
                            .get<std::int64_t>();
    {
      std::lock_guard lock(m_mutex);
      const auto now = clock::now();
      for (auto it = m_entries.begin(); it != m_entries.end();) {
        if (it->second.poll.after < newest || now >= it->second.deadline) {
          due.push_back(std::move(it->second));
          it = m_entries.erase(it);
        } else {
          ++it;
        }
      }
    }
    for (const auto& e : due)
      replies.push_back(json_reply(200, db.events_after(e.poll.after, e.poll.limit)));
  } catch (const database_unavailable& e) {
    // Polls still parked wait for the next tick (their deadline holds);
    // those taken out and not answered yet get the 503 of any request.
    slot.drop();
    spdlog::warn("event=event_poll_failed error=\"{}\"", e.what());
    while (replies.size() < due.size())
      replies.push_back(unavailable_reply("the database is unavailable; retry later", 2));
  }
  {
    std::lock_guard lock(m_mutex);
    m_checking = false;
  }
  for (std::size_t i = 0; i < due.size(); ++i) due[i].done(std::move(replies[i]));
}

}  // namespace agentq
