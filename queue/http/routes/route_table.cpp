#include "http/routes/route_table.hpp"

#include "http/request_parsing.hpp"
#include "http/routes/routes.hpp"

namespace agentq {

// Every route of docs/api.md §5. Order does not matter: no two patterns
// match one path (a literal segment never collides with a {…} of another).
const std::vector<route>& route_table() {
  static const std::vector<route> table = {
      // method  pattern                           roles         database answer
      {"GET", "/healthz", public_route, false, routes::healthz},
      {"GET", "/readyz", public_route, true, routes::readyz},
      {"GET", "/metrics", public_route, true, routes::metrics},
      {"GET", "/v1/whoami", any_agent, true, routes::whoami},

      {"POST", "/v1/tasks", admin_only, true, routes::add_task},
      {"GET", "/v1/tasks", any_agent, true, routes::list_tasks},
      {"GET", "/v1/tasks/{id}", any_agent, true, routes::get_task},
      {"POST", "/v1/tasks/{id}/cancel", admin_only, true, routes::cancel_task},
      {"POST", "/v1/tasks/{id}/requeue", admin_only, true, routes::requeue_task},
      {"POST", "/v1/tasks/{id}/approve", admin_only, true, routes::approve_as_human},

      {"POST", "/v1/claims", holders, true, routes::claim},
      {"POST", "/v1/tasks/{id}/heartbeat", holders, true, routes::heartbeat},
      {"POST", "/v1/tasks/{id}/submit", workers, true, routes::submit},
      {"POST", "/v1/tasks/{id}/release", holders, true, routes::release},
      {"POST", "/v1/tasks/{id}/review", reviewers, true, routes::review},

      {"POST", "/v1/repos", admin_only, true, routes::add_repo},
      {"GET", "/v1/repos", admin_only, true, routes::list_repos},

      {"POST", "/v1/agents", admin_only, true, routes::add_agent},
      {"GET", "/v1/agents", admin_only, true, routes::list_agents},
      {"DELETE", "/v1/agents/{name}", admin_only, true, routes::revoke_agent},
      {"POST", "/v1/agents/me/status", holders, true, routes::set_runner_status},

      {"GET", "/v1/disagreements", any_agent, true, routes::list_disagreements},
      {"GET", "/v1/disagreements/{id}", any_agent, true, routes::get_disagreement},
      {"POST", "/v1/disagreements/{id}/resolve", admin_only, true,
       routes::resolve_disagreement},

      {"GET", "/v1/agreement", any_agent, true, routes::agreement},
      {"GET", "/v1/events", any_agent, true, routes::list_events},
      {"POST", "/v1/tasks/{id}/amend", admin_only, true, routes::amend_task},
      {"GET", "/", public_route, false, routes::web_page},
      {"GET", "/web/{file}", public_route, false, routes::web_file},
  };
  return table;
}

namespace {

// Each route's pattern split into segments once, in table order: requests
// match against these, not against the pattern text.
const std::vector<std::vector<std::string>>& pattern_segments() {
  static const std::vector<std::vector<std::string>> segments = [] {
    std::vector<std::vector<std::string>> all;
    for (const auto& r : route_table()) all.push_back(split_path(r.pattern).value());
    return all;
  }();
  return segments;
}

// Whether `parts` fit the pattern's segments; the {…} segments go to params.
bool fits(const std::vector<std::string>& pattern, const std::vector<std::string>& parts,
          std::vector<std::string>& params) {
  if (pattern.size() != parts.size()) return false;
  std::vector<std::string> found;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const auto& segment = pattern[i];
    if (segment.size() > 2 && segment.front() == '{' && segment.back() == '}')
      found.push_back(parts[i]);
    else if (segment != parts[i])
      return false;
  }
  params = std::move(found);
  return true;
}

}  // namespace

route_match match_route(const std::string& method, const std::string& path) {
  route_match match;
  auto parts = split_path(path);
  if (!parts) return match;
  // HEAD is GET without the body (the listener drops it).
  const std::string wanted = method == "HEAD" ? "GET" : method;
  std::vector<std::string> allowed;
  const auto& table = route_table();
  const auto& segments = pattern_segments();
  for (std::size_t i = 0; i < table.size(); ++i) {
    const route& r = table[i];
    std::vector<std::string> params;
    if (!fits(segments[i], *parts, params)) continue;
    if (wanted == r.method) {
      match.found = &r;
      match.params = std::move(params);
      return match;
    }
    allowed.push_back(r.method);
    if (std::string(r.method) == "GET") allowed.push_back("HEAD");
  }
  for (const auto& m : allowed) match.allow += (match.allow.empty() ? "" : ", ") + m;
  return match;
}

}  // namespace agentq
