#include "http/auth_cache.hpp"

namespace agentq {

auth_cache::auth_cache(auth_cache_config config, now_fn now)
    : m_config(config), m_now(std::move(now)) {}

std::optional<agent_identity> auth_cache::find(const std::string& token_hash) {
  if (!enabled()) return std::nullopt;
  const auto now = m_now();
  std::lock_guard lock(m_mutex);
  auto it = m_entries.find(token_hash);
  if (it == m_entries.end()) return std::nullopt;
  if (now - it->second.verified_at >= m_config.expiry) {
    m_entries.erase(it);  // too old to believe: the caller asks the database
    return std::nullopt;
  }
  it->second.used_at = now;
  return it->second.who;
}

std::uint64_t auth_cache::epoch() const {
  std::lock_guard lock(m_mutex);
  return m_epoch;
}

void auth_cache::remember(const std::string& token_hash, const agent_identity& who,
                          std::uint64_t epoch_seen) {
  if (!enabled()) return;
  const auto now = m_now();
  std::lock_guard lock(m_mutex);
  if (epoch_seen != m_epoch) return;  // a revocation since: this answer may predate it
  auto it = m_entries.find(token_hash);
  if (it == m_entries.end()) {
    if (m_entries.size() >= m_config.max_entries) evict_oldest_locked();
    m_entries.emplace(token_hash, entry{who, now, now});
  } else {
    it->second = entry{who, now, now};
  }
}

void auth_cache::forget_agent(const std::string& name) {
  std::lock_guard lock(m_mutex);
  ++m_epoch;
  for (auto it = m_entries.begin(); it != m_entries.end();)
    it = it->second.who.name == name ? m_entries.erase(it) : std::next(it);
}

auth_cache::refresh_batch auth_cache::refresh_due() {
  refresh_batch due;
  if (!enabled()) return due;
  due.began = m_now();
  std::lock_guard lock(m_mutex);
  for (auto it = m_entries.begin(); it != m_entries.end();) {
    const auto& e = it->second;
    if (due.began - e.verified_at >= m_config.expiry ||
        due.began - e.used_at >= m_config.keep_unused) {
      it = m_entries.erase(it);  // expired, or nobody calls with it any more
      continue;
    }
    if (due.began - e.verified_at >= m_config.expiry / 3) due.token_hashes.push_back(it->first);
    ++it;
  }
  return due;
}

void auth_cache::refreshed(const refresh_batch& asked,
                           const std::map<std::string, agent_identity>& live) {
  std::lock_guard lock(m_mutex);
  for (const auto& hash : asked.token_hashes) {
    auto it = m_entries.find(hash);
    if (it == m_entries.end()) continue;  // forgotten meanwhile: stays forgotten
    auto found = live.find(hash);
    if (found == live.end()) {
      m_entries.erase(it);  // revoked (on some server, or by SQL)
      continue;
    }
    if (asked.began > it->second.verified_at) {
      it->second.verified_at = asked.began;
      it->second.who = found->second;  // a role changed by SQL shows here
    }
  }
}

std::size_t auth_cache::size() const {
  std::lock_guard lock(m_mutex);
  return m_entries.size();
}

// Full (more live agents than max_entries): the least recently verified
// entry goes; its agent's next call is verified by a query again.
void auth_cache::evict_oldest_locked() {
  auto oldest = m_entries.begin();
  for (auto it = m_entries.begin(); it != m_entries.end(); ++it)
    if (it->second.verified_at < oldest->second.verified_at) oldest = it;
  if (oldest != m_entries.end()) m_entries.erase(oldest);
}

}  // namespace agentq
