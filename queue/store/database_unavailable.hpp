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

#include <stdexcept>
#include <string>

namespace agentq {

class database_unavailable : public std::runtime_error {
 public:
  explicit database_unavailable(const std::string& message, bool connection_lost = true)
      : std::runtime_error(message), m_connection_lost(connection_lost) {}

  bool connection_lost() const { return m_connection_lost; }

 private:
  bool m_connection_lost;
};

}  // namespace agentq
