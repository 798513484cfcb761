#include "http/metrics.hpp"

#include <sstream>

namespace agentq {
namespace {

// Label values: backslash, quote and newline escaped (route patterns have none,
// but the format demands it).
std::string label(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

}  // namespace

void server_metrics::observe_request(const std::string& route, int status, double seconds) {
  std::lock_guard lock(m_mutex);
  auto& h = m_latency[route];
  for (std::size_t i = 0; i < buckets.size(); ++i)
    if (seconds <= buckets[i]) ++h.counts[i];
  ++h.count;
  h.sum += seconds;
  ++m_requests[{route, status}];
}

std::string server_metrics::render(const std::optional<queue_stats>& stats,
                                   std::size_t open_long_polls) const {
  std::ostringstream out;
  out << "# HELP agentq_database_up Whether this server could read the database just now.\n"
         "# TYPE agentq_database_up gauge\n"
      << "agentq_database_up " << (stats ? 1 : 0) << "\n";
  if (stats) {
    out << "# HELP agentq_tasks Tasks by state (all servers).\n# TYPE agentq_tasks gauge\n";
    for (const auto& [state, count] : stats->tasks_by_state)
      out << "agentq_tasks{state=\"" << label(state) << "\"} " << count << "\n";
  }
  out << "# HELP agentq_claims_total Claims granted by this server.\n"
         "# TYPE agentq_claims_total counter\n"
      << "agentq_claims_total " << m_claims_granted.load() << "\n"
      << "# HELP agentq_lease_expirations_total Leases that ran out, found by this server's "
         "reaper or taken over by its claims.\n"
         "# TYPE agentq_lease_expirations_total counter\n"
      << "agentq_lease_expirations_total " << m_lease_expirations.load() << "\n"
      << "# HELP agentq_retention_deleted_tasks_total Finished tasks this server's retention "
         "deleted (with their rows).\n"
         "# TYPE agentq_retention_deleted_tasks_total counter\n"
      << "agentq_retention_deleted_tasks_total " << m_retention_deleted_tasks.load() << "\n"
      << "# HELP agentq_stale_token_refusals_total Holder calls refused with stale_token by "
         "this server.\n# TYPE agentq_stale_token_refusals_total counter\n"
      << "agentq_stale_token_refusals_total " << m_stale_token_refusals.load() << "\n"
      << "# HELP agentq_lease_expired_refusals_total Holder calls refused with lease_expired "
         "by this server (the lease ran out and nobody has taken the task yet).\n"
         "# TYPE agentq_lease_expired_refusals_total counter\n"
      << "agentq_lease_expired_refusals_total " << m_lease_expired_refusals.load() << "\n"
      << "# HELP agentq_open_long_polls Claims waiting for a task on this server.\n"
         "# TYPE agentq_open_long_polls gauge\n"
      << "agentq_open_long_polls " << open_long_polls << "\n"
      << "# HELP agentq_accept_failures_total Connections this server could not accept for "
         "lack of descriptors or memory (each pauses accepting 100 ms).\n"
         "# TYPE agentq_accept_failures_total counter\n"
      << "agentq_accept_failures_total " << m_accept_failures.load() << "\n";

  std::lock_guard lock(m_mutex);
  out << "# HELP agentq_http_requests_total Requests answered, by route and status.\n"
         "# TYPE agentq_http_requests_total counter\n";
  for (const auto& [key, count] : m_requests)
    out << "agentq_http_requests_total{route=\"" << label(key.first) << "\",status=\""
        << key.second << "\"} " << count << "\n";
  out << "# HELP agentq_http_request_duration_seconds Request latency by route (long-polls "
         "include their wait).\n# TYPE agentq_http_request_duration_seconds histogram\n";
  for (const auto& [route, h] : m_latency) {
    const std::string r = label(route);
    for (std::size_t i = 0; i < buckets.size(); ++i)
      out << "agentq_http_request_duration_seconds_bucket{route=\"" << r << "\",le=\""
          << buckets[i] << "\"} " << h.counts[i] << "\n";
    out << "agentq_http_request_duration_seconds_bucket{route=\"" << r << "\",le=\"+Inf\"} "
        << h.count << "\n"
        << "agentq_http_request_duration_seconds_sum{route=\"" << r << "\"} " << h.sum << "\n"
        << "agentq_http_request_duration_seconds_count{route=\"" << r << "\"} " << h.count
        << "\n";
  }
  return out.str();
}

}  // namespace agentq
