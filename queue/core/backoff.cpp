#include "core/backoff.hpp"

#include <algorithm>

namespace agentq {

int retry_backoff_s(int attempt, const backoff_policy& policy) {
  if (policy.base_s <= 0) return 0;
  long long delay = policy.base_s;
  for (int i = 1; i < attempt && delay < policy.max_s; ++i) delay *= 2;
  return static_cast<int>(std::min<long long>(delay, policy.max_s));
}

}  // namespace agentq
