#pragma once
// How long a released task waits before it is claimable again.

namespace agentq {

struct backoff_policy {
  int base_s = 5;     // after the first failed attempt
  int max_s = 3600;   // never longer than this
};

// Exponential: base, 2·base, 4·base, … capped at max_s. attempt is the attempt
// that just failed, from 1. No jitter: claims are ordered by the database, so
// released tasks do not stampede a shared resource.
int retry_backoff_s(int attempt, const backoff_policy& policy = {});

}  // namespace agentq
