#pragma once
// The server's own counters for /metrics (Prometheus text format 0.0.4).
// Request latency is a histogram per route pattern (never the raw path, so
// the number of series stays fixed). Thread-safe.
//
// Counters are this process's, incremented where the server does the thing
// (a claim answered, a lease its reaper or a claim found expired, a task its
// retention deleted): Prometheus sums them across servers. They are never
// read from the event history (a scan that grows with it), nor kept in a
// row every claim would update (one hot row would make claims on every
// server take turns again, docs/benchmarks.md).

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "store/stats.hpp"

namespace agentq {

class server_metrics {
 public:
  static constexpr std::array<double, 13> buckets{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                                                  1,     2.5,  5,     10,   30,  60};

  void observe_request(const std::string& route, int status, double seconds);
  void add_claims_granted(std::int64_t count) { m_claims_granted += count; }
  void add_stale_token_refusal() { ++m_stale_token_refusals; }
  void add_lease_expired_refusal() { ++m_lease_expired_refusals; }
  void add_accept_failure() { ++m_accept_failures; }
  void add_lease_expirations(std::int64_t count) { m_lease_expirations += count; }
  void add_retention_deleted(std::int64_t tasks) { m_retention_deleted_tasks += tasks; }

  std::int64_t claims_granted() const { return m_claims_granted; }
  std::int64_t stale_token_refusals() const { return m_stale_token_refusals; }
  std::int64_t lease_expired_refusals() const { return m_lease_expired_refusals; }

  // The whole exposition. stats: the database's numbers, or nullopt when it
  // could not be read (agentq_database_up 0).
  std::string render(const std::optional<queue_stats>& stats, std::size_t open_long_polls) const;

 private:
  struct histogram {
    std::array<std::uint64_t, buckets.size()> counts{};
    std::uint64_t count = 0;
    double sum = 0;
  };

  mutable std::mutex m_mutex;
  std::map<std::string, histogram> m_latency;                       // by route
  std::map<std::pair<std::string, int>, std::uint64_t> m_requests;  // by route, status
  std::atomic<std::int64_t> m_claims_granted{0};
  std::atomic<std::int64_t> m_stale_token_refusals{0};
  std::atomic<std::int64_t> m_lease_expired_refusals{0};
  std::atomic<std::int64_t> m_accept_failures{0};
  std::atomic<std::int64_t> m_lease_expirations{0};
  std::atomic<std::int64_t> m_retention_deleted_tasks{0};
};

}  // namespace agentq
