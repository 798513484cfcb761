#include "core/refusal.hpp"

namespace agentq {

std::string_view to_string(error_code code) {
  switch (code) {
    case error_code::invalid_request: return "invalid_request";
    case error_code::unauthenticated: return "unauthenticated";
    case error_code::forbidden: return "forbidden";
    case error_code::not_found: return "not_found";
    case error_code::method_not_allowed: return "method_not_allowed";
    case error_code::stale_token: return "stale_token";
    case error_code::lease_expired: return "lease_expired";
    case error_code::invalid_state: return "invalid_state";
    case error_code::duplicate: return "duplicate";
    case error_code::too_large: return "too_large";
    case error_code::unavailable: return "unavailable";
  }
  return "internal";
}

int http_status(error_code code) {
  switch (code) {
    case error_code::invalid_request: return 400;
    case error_code::unauthenticated: return 401;
    case error_code::forbidden: return 403;
    case error_code::not_found: return 404;
    case error_code::method_not_allowed: return 405;
    case error_code::stale_token:
    case error_code::lease_expired:
    case error_code::invalid_state:
    case error_code::duplicate: return 409;
    case error_code::too_large: return 413;
    case error_code::unavailable: return 503;
  }
  return 500;
}

}  // namespace agentq
