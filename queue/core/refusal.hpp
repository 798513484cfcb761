#pragma once
// Lost races and refused requests are values, not exceptions: the queue core
// answers outcome<T>, and one place (the HTTP layer's error mapping) turns a
// refusal into the contract's status code. Failures (the database is gone, a
// bug) are exceptions.

#include <string>
#include <utility>
#include <variant>

namespace agentq {

// The contract's error codes (docs/api.md §5), in the order of their statuses.
enum class error_code {
  invalid_request,  // 400
  unauthenticated,  // 401
  forbidden,        // 403
  not_found,        // 404
  method_not_allowed,  // 405 (with an Allow header)
  stale_token,      // 409
  lease_expired,    // 409
  invalid_state,    // 409
  duplicate,        // 409
  too_large,        // 413
  unavailable,      // 503
};

std::string_view to_string(error_code code);
int http_status(error_code code);

struct refusal {
  error_code code;
  std::string message;
};

template <typename T>
class outcome {
 public:
  outcome(T value) : m_value(std::move(value)) {}
  outcome(refusal why) : m_value(std::move(why)) {}

  bool ok() const { return std::holds_alternative<T>(m_value); }
  explicit operator bool() const { return ok(); }

  T& value() { return std::get<T>(m_value); }
  const T& value() const { return std::get<T>(m_value); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() { return value(); }
  const T& operator*() const { return value(); }

  const refusal& error() const { return std::get<refusal>(m_value); }

 private:
  std::variant<T, refusal> m_value;
};

inline refusal refuse(error_code code, std::string message) {
  return refusal{code, std::move(message)};
}

}  // namespace agentq
