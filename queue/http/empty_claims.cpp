#include "http/empty_claims.hpp"

#include <algorithm>
#include <vector>

namespace agentq {

std::uint64_t empty_claims::epoch() const {
  std::lock_guard lock(m_mutex);
  return m_epoch;
}

void empty_claims::changed() {
  std::lock_guard lock(m_mutex);
  ++m_epoch;
  m_empty.clear();
}

bool empty_claims::known(const parked_claim& claim) const {
  const auto key = key_of(claim), filter = key_of(claim, true);
  std::lock_guard lock(m_mutex);
  return m_empty.count(key) > 0 || m_empty.count(filter) > 0;
}

void empty_claims::note(const parked_claim& claim, std::uint64_t epoch_seen) {
  auto key = key_of(claim);
  std::lock_guard lock(m_mutex);
  if (epoch_seen == m_epoch) m_empty.insert(std::move(key));
}

void empty_claims::note_filter(const parked_claim& claim, std::uint64_t epoch_seen) {
  auto key = key_of(claim, true);
  std::lock_guard lock(m_mutex);
  if (epoch_seen == m_epoch) m_empty.insert(std::move(key));
}

std::string empty_claims::key_of(const parked_claim& claim, bool whoever_asks) {
  std::vector<std::string> queues = claim.queues;
  std::sort(queues.begin(), queues.end());
  std::string key(to_string(claim.agent.role));
  if (claim.agent.role == agent_role::reviewer && !whoever_asks)
    key += "#" + std::to_string(claim.agent.id);
  else
    key += "#*";
  for (const auto& q : queues) key += "|" + q;
  return key;
}

}  // namespace agentq
