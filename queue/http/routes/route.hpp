#pragma once
// One route of the HTTP API (docs/api.md §5): its method and path pattern,
// who may call it, whether it needs the database, and the function that
// answers it. The table of every route is route_table.cpp; the functions
// live in files by noun (tasks.cpp, claims.cpp, ...), declared in routes.hpp.
//
// A route function gets a route_context and answers a reply, or throws
// `refused` (route_support.hpp) for the handler to turn into an error body.
// Work that must not hold a database connection (git) is handed back as a
// git_step in ctx.result; the handler or the server runs it.

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "http/handler.hpp"

namespace agentq {

// Which roles may call a route, as bits; 0: no token needed at all.
using role_mask = unsigned;
constexpr role_mask role_bit(agent_role role) { return 1u << static_cast<unsigned>(role); }
inline constexpr role_mask public_route = 0;
inline constexpr role_mask admin_only = role_bit(agent_role::admin);
inline constexpr role_mask workers = role_bit(agent_role::worker);
inline constexpr role_mask reviewers = role_bit(agent_role::reviewer);
inline constexpr role_mask holders = workers | reviewers;
inline constexpr role_mask any_agent = admin_only | workers | reviewers;

struct route_context {
  const http_request& request;
  const std::vector<std::string>& params;  // the {id} / {name} segments, in order
  const std::map<std::string, std::string>& query;
  const agent_identity& caller;  // unset (id 0, no name) on public routes
  const std::function<store&()>& get_store;
  request_handler& handler;
  handler_result& result;  // a route may set park or git here

  store& db() { return get_store(); }
  const handler_config& config() const { return handler.config(); }
  const handler_services& services() const { return handler.services(); }
};

using route_function = http_reply (*)(route_context&);

struct route {
  const char* method;   // "GET", "POST", "DELETE"
  const char* pattern;  // "/v1/tasks/{id}/submit": {…} matches one segment
  role_mask roles;
  bool needs_database;
  route_function answer;
};

}  // namespace agentq
