#include "http/claim_waiters.hpp"

#include <algorithm>
#include <vector>

#include <spdlog/spdlog.h>

#include "store/database_unavailable.hpp"

namespace agentq {
namespace {

using clock = std::chrono::steady_clock;

bool wants(const parked_claim& claim, const std::set<std::string>& queues) {
  if (claim.queues.empty()) return true;
  return std::any_of(claim.queues.begin(), claim.queues.end(),
                     [&](const std::string& q) { return queues.count(q) > 0; });
}

// Claims with the same key get the same answer from the database: once one
// came back empty, the others would too. A reviewer's claim also depends on
// who asks (it never reviews its own work).
std::string key_of(const parked_claim& claim) {
  std::vector<std::string> queues = claim.queues;
  std::sort(queues.begin(), queues.end());
  std::string key(to_string(claim.agent.role));
  if (claim.agent.role == agent_role::reviewer) key += "#" + std::to_string(claim.agent.id);
  for (const auto& q : queues) key += "|" + q;
  return key;
}

}  // namespace

claim_waiters::claim_waiters(request_handler& handler, db_pool& pool, claim_waiters_config config)
    : m_handler(handler), m_pool(pool), m_config(config) {}

claim_waiters::~claim_waiters() { shutdown(); }

void claim_waiters::start() { m_timer = std::thread([this] { timer_loop(); }); }

void claim_waiters::shutdown() {
  std::map<std::uint64_t, entry> ended;
  {
    std::lock_guard lock(m_mutex);
    m_stopping = true;
    ended.swap(m_entries);
    m_deadlines.clear();
  }
  m_wake.notify_all();
  for (auto& [id, e] : ended) e.done(request_handler::no_content());
  if (m_timer.joinable() && m_timer.get_id() != std::this_thread::get_id()) m_timer.join();
}

std::uint64_t claim_waiters::generation() const {
  std::lock_guard lock(m_mutex);
  return m_generation;
}

std::uint64_t claim_waiters::park(parked_claim claim, std::uint64_t seen_generation,
                                  completion done) {
  std::unique_lock lock(m_mutex);
  if (m_stopping) {
    lock.unlock();
    done(request_handler::no_content());
    return 0;
  }
  const auto id = m_next_id++;
  const auto deadline = clock::now() + std::chrono::seconds(claim.wait_s);
  std::string key = key_of(claim);
  m_entries.emplace(id, entry{std::move(claim), std::move(key), deadline, std::move(done)});
  m_deadlines.emplace(deadline, id);
  // A notification came between the caller's first try and now: retry now
  // rather than at the next sweep.
  if (seen_generation != m_generation) {
    m_pending_all = true;
    schedule_drain_locked();
  }
  lock.unlock();
  m_wake.notify_all();
  return id;
}

void claim_waiters::cancel(std::uint64_t id) {
  std::lock_guard lock(m_mutex);
  m_entries.erase(id);  // its deadline record is skipped when it comes due
}

void claim_waiters::notify(const std::string& queue) {
  std::lock_guard lock(m_mutex);
  ++m_generation;
  if (m_entries.empty()) return;
  m_pending_queues.insert(queue);
  schedule_drain_locked();
}

void claim_waiters::notify_all() {
  std::lock_guard lock(m_mutex);
  ++m_generation;
  if (m_entries.empty()) return;
  m_pending_all = true;
  schedule_drain_locked();
}

std::size_t claim_waiters::size() const {
  std::lock_guard lock(m_mutex);
  return m_entries.size() + m_draining;
}

void claim_waiters::schedule_drain_locked() {
  if (m_drain_scheduled || m_stopping) return;
  m_drain_scheduled = true;
  m_pool.post([this](db_slot& slot) { drain(slot); });
}

void claim_waiters::drain(db_slot& slot) {
  std::set<std::string> queues;
  bool all = false;
  std::vector<std::uint64_t> ids;
  {
    std::lock_guard lock(m_mutex);
    queues.swap(m_pending_queues);
    all = m_pending_all;
    m_pending_all = false;
    for (const auto& [id, e] : m_entries)
      if (all || wants(e.claim, queues)) ids.push_back(id);
  }

  std::set<std::string> exhausted;
  int empty[3] = {0, 0, 0};
  for (auto id : ids) {
    entry e;
    {
      std::lock_guard lock(m_mutex);
      auto it = m_entries.find(id);
      if (it == m_entries.end()) continue;  // answered or cancelled meanwhile
      const auto& key = it->second.key;
      const auto role = static_cast<int>(it->second.claim.agent.role);
      if (exhausted.count(key) || empty[role] >= m_config.max_empty_per_drain) continue;
      e = std::move(it->second);
      m_entries.erase(it);
      ++m_draining;
    }
    std::optional<http_reply> reply;
    bool failed = false;
    try {
      try {
        reply = m_handler.claim_now(e.claim, slot.get());
      } catch (const database_unavailable& ex) {
        // A broken connection is not the database being down: once more on
        // a fresh one (a claim is safe to repeat: docs/api.md, "Retries").
        if (!ex.connection_lost()) throw;
        slot.drop();
        reply = m_handler.claim_now(e.claim, slot.get());
      }
    } catch (const database_unavailable& ex) {
      spdlog::warn("event=parked_claim_failed error=\"{}\"", ex.what());
      slot.drop();
      failed = true;
    } catch (const std::exception& ex) {
      spdlog::error("event=parked_claim_failed error=\"{}\"", ex.what());
      failed = true;  // back in line; the next sweep tries again
    }
    completion answer;
    {
      std::lock_guard lock(m_mutex);
      --m_draining;
      if (reply) {
        answer = std::move(e.done);
      } else if (m_stopping || clock::now() >= e.deadline) {
        answer = std::move(e.done);
        reply = request_handler::no_content();
      } else {
        exhausted.insert(e.key);
        m_entries.emplace(id, std::move(e));  // back in its place in line
        ++empty[static_cast<int>(m_entries.at(id).claim.agent.role)];
      }
    }
    if (answer) answer(std::move(*reply));
    if (failed) break;  // the database is away: the sweep tries again
  }

  std::lock_guard lock(m_mutex);
  m_drain_scheduled = false;
  if (!m_pending_queues.empty() || m_pending_all) {
    if (m_entries.empty()) {
      m_pending_queues.clear();
      m_pending_all = false;
    } else {
      schedule_drain_locked();
    }
  }
}

void claim_waiters::expire_overdue() {
  std::vector<completion> ended;
  {
    std::lock_guard lock(m_mutex);
    const auto now = clock::now();
    while (!m_deadlines.empty() && m_deadlines.begin()->first <= now) {
      auto id = m_deadlines.begin()->second;
      m_deadlines.erase(m_deadlines.begin());
      auto it = m_entries.find(id);
      if (it == m_entries.end()) continue;  // answered, cancelled, or being drained
      ended.push_back(std::move(it->second.done));
      m_entries.erase(it);
    }
  }
  for (auto& done : ended) done(request_handler::no_content());
}

void claim_waiters::timer_loop() {
  auto next_sweep = clock::now() + m_config.sweep_interval;
  std::unique_lock lock(m_mutex);
  while (!m_stopping) {
    auto until = next_sweep;
    if (!m_deadlines.empty()) until = std::min(until, m_deadlines.begin()->first);
    m_wake.wait_until(lock, until);
    if (m_stopping) break;
    lock.unlock();
    expire_overdue();
    lock.lock();
    if (clock::now() >= next_sweep) {
      next_sweep = clock::now() + m_config.sweep_interval;
      if (!m_entries.empty()) {
        m_pending_all = true;
        schedule_drain_locked();
      }
    }
  }
}

}  // namespace agentq
