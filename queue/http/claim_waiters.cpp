#include "http/claim_waiters.hpp"

#include <algorithm>
#include <vector>

#include <spdlog/spdlog.h>

#include "http/empty_claims.hpp"
#include "store/database_unavailable.hpp"

namespace agentq {
namespace {

using clock = std::chrono::steady_clock;

bool wants(const parked_claim& claim, const std::set<std::string>& queues) {
  if (claim.queues.empty()) return true;
  return std::any_of(claim.queues.begin(), claim.queues.end(),
                     [&](const std::string& q) { return queues.count(q) > 0; });
}

// Claims with one key are served by one batched statement: one role, one
// queue filter (a reviewer's batch serves reviewers who ask, each never
// getting its own work).
std::string key_of(const parked_claim& claim) {
  std::vector<std::string> queues = claim.queues;
  std::sort(queues.begin(), queues.end());
  std::string key(to_string(claim.agent.role));
  for (const auto& q : queues) key += "|" + q;
  return key;
}

}  // namespace

claim_waiters::claim_waiters(request_handler& handler, db_pool& pool, claim_waiters_config config,
                             empty_claims* memory)
    : m_handler(handler), m_pool(pool), m_config(config), m_memory(memory) {}

// Called under m_mutex: anything may be claimable now (a notification, a sweep).
void claim_waiters::changed() {
  if (m_memory) m_memory->changed();
}

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
  // Its deadline record is skipped when it comes due. One in a batch right
  // now is dropped when the batch gives it nothing.
  if (!m_entries.erase(id) && m_in_drain.count(id)) m_gone.insert(id);
}

void claim_waiters::notify(const std::string& queue) {
  std::lock_guard lock(m_mutex);
  ++m_generation;
  changed();
  if (m_entries.empty()) return;
  m_pending_queues.insert(queue);
  schedule_drain_locked();
}

void claim_waiters::notify_all() {
  std::lock_guard lock(m_mutex);
  ++m_generation;
  changed();
  if (m_entries.empty()) return;
  m_pending_all = true;
  schedule_drain_locked();
}

std::size_t claim_waiters::size() const {
  std::lock_guard lock(m_mutex);
  return m_entries.size() + m_in_drain.size() - m_gone.size();
}

void claim_waiters::schedule_drain_locked() {
  if (m_drain_scheduled || m_stopping) return;
  m_drain_scheduled = true;
  m_pool.post([this](db_slot& slot) { drain(slot); });
}

// What one drain learned: filters that found nothing, claims that were
// tried without getting a task, empty batches per role.
struct claim_waiters::drain_state {
  std::set<std::string> exhausted;
  std::set<std::uint64_t> tried;
  int empty[3] = {0, 0, 0};
};

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

  // Every batch answers one claim at least or rules some out, so this ends.
  drain_state state;
  for (;;) {
    auto taken = take_batch(ids, state);
    if (taken.empty() || !run_batch(slot, taken, state)) break;
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

// The first claim of `ids` (arrival order) still worth a try, and those
// after it with its key, up to max_batch: taken out of the map.
claim_waiters::batch claim_waiters::take_batch(const std::vector<std::uint64_t>& ids,
                                               const drain_state& state) {
  batch taken;
  std::lock_guard lock(m_mutex);
  std::optional<std::string> key;  // the batch's, once its first claim is in
  for (auto id : ids) {
    if (static_cast<int>(taken.size()) >= std::max(1, m_config.max_batch)) break;
    auto it = m_entries.find(id);
    if (it == m_entries.end() || state.tried.count(id)) continue;  // answered, cancelled, tried
    const auto& e = it->second;
    if (key) {
      if (e.key != *key) continue;
    } else {
      if (state.exhausted.count(e.key) ||
          state.empty[static_cast<int>(e.claim.agent.role)] >= m_config.max_empty_per_drain)
        continue;
    }
    if (!key) key = e.key;
    m_in_drain.insert(id);
    taken.emplace_back(id, std::move(it->second));
    m_entries.erase(it);
  }
  return taken;
}

bool claim_waiters::run_batch(db_slot& slot, batch& taken, drain_state& state) {
  const auto role = taken.front().second.claim.agent.role;
  const auto queues = taken.front().second.claim.queues;
  const auto key = taken.front().second.key;
  std::vector<batch_claimant> claimants;
  for (const auto& [id, e] : taken) claimants.push_back({e.claim.agent, e.claim.lease_s});
  const auto epoch = m_memory ? m_memory->epoch() : 0;

  request_handler::batch_replies result;
  bool failed = false;
  try {
    try {
      result = m_handler.claim_batch(role, queues, claimants, slot.get());
    } catch (const database_unavailable& ex) {
      // A broken connection is not the database being down: once more on
      // a fresh one (a claim is safe to repeat: docs/api.md, "Retries").
      if (!ex.connection_lost()) throw;
      slot.drop();
      result = m_handler.claim_batch(role, queues, claimants, slot.get());
    }
  } catch (const database_unavailable& ex) {
    spdlog::warn("event=parked_claim_failed error=\"{}\"", ex.what());
    slot.drop();
    failed = true;
  } catch (const std::exception& ex) {
    spdlog::error("event=parked_claim_failed error=\"{}\"", ex.what());
    failed = true;  // back in line; the next sweep tries again
  }
  auto& replies = result.replies;
  replies.resize(taken.size());

  std::size_t granted = 0;
  for (const auto& r : replies) granted += r.has_value();
  // What the batch says of the claims that got nothing: nobody with this
  // filter would find anything (a worker's batch that came back short: its
  // tasks went to the others), or only these claimants would not (a
  // reviewer may be left out because the tasks were its own work: it is
  // ruled out when nobody in the batch got one).
  const bool filter_empty = !failed && result.filter_empty;
  const bool empty_for_the_rest = filter_empty || (!failed && granted == 0);
  if (filter_empty && m_memory) m_memory->note_filter(taken.front().second.claim, epoch);

  std::vector<std::pair<completion, http_reply>> answers;
  {
    std::lock_guard lock(m_mutex);
    const auto now = clock::now();
    for (std::size_t i = 0; i < taken.size(); ++i) {
      auto& [id, e] = taken[i];
      m_in_drain.erase(id);
      const bool gone = m_gone.erase(id) > 0;
      if (replies[i]) {
        answers.emplace_back(std::move(e.done), std::move(*replies[i]));
        continue;
      }
      if (empty_for_the_rest && m_memory) m_memory->note(e.claim, epoch);
      if (gone) continue;  // its client went away: nobody to answer
      if (m_stopping || now >= e.deadline) {
        answers.emplace_back(std::move(e.done), request_handler::no_content());
        continue;
      }
      if (empty_for_the_rest || failed) state.tried.insert(id);
      m_entries.emplace(id, std::move(e));  // back in its place in line
    }
    if (filter_empty) state.exhausted.insert(key);
    if (granted == 0) ++state.empty[static_cast<int>(role)];
  }
  for (auto& [done, reply] : answers) done(std::move(reply));
  return !failed;  // the database is away: the sweep tries again
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
      changed();  // run_after may have come due, leases run out
      if (!m_entries.empty()) {
        m_pending_all = true;
        schedule_drain_locked();
      }
    }
  }
}

}  // namespace agentq
