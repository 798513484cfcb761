#pragma once
// The one exception the store throws at its callers for a failed database
// call: the server maps it to 503 with Retry-After, and services retry on
// their next interval. Refusals (stale token, unknown id, wrong state) are
// never this: they are values (core/refusal.hpp).
//
// connection_lost() says whether the connection itself failed (it broke, the
// server shut down, too many connections, an unknown commit outcome): the
// caller should drop it and connect anew. Otherwise a statement failed on a
// live connection.
//
// may_have_committed() says whether the failure came while a COMMIT was under
// way (libpq lost the connection before the answer): the transaction may have
// landed. A lost connection that is not in doubt provably committed nothing,
// so the server runs the request again once on a fresh connection
// (docs/api.md, "Retries") instead of answering 503.

#include <stdexcept>
#include <string>

namespace agentq {

class database_unavailable : public std::runtime_error {
 public:
  explicit database_unavailable(const std::string& message, bool connection_lost = true,
                                bool may_have_committed = false)
      : std::runtime_error(message),
        m_connection_lost(connection_lost),
        m_may_have_committed(may_have_committed) {}

  bool connection_lost() const { return m_connection_lost; }
  bool may_have_committed() const { return m_may_have_committed; }
  // The connection broke before anything could commit: safe to run again.
  bool retryable() const { return m_connection_lost && !m_may_have_committed; }

 private:
  bool m_connection_lost;
  bool m_may_have_committed;
};

}  // namespace agentq
