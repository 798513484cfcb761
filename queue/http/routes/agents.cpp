// Agents: who am I, and the admin's add, list and revoke.
#include "core/requests.hpp"
#include "http/auth_cache.hpp"
#include "http/request_parsing.hpp"
#include "http/routes/route_support.hpp"
#include "http/routes/routes.hpp"

namespace agentq::routes {

// Lets a runner check its token's role before it claims anything.
http_reply whoami(route_context& ctx) {
  return json_reply(200, {{"name", ctx.caller.name}, {"role", to_string(ctx.caller.role)}});
}

http_reply add_agent(route_context& ctx) {
  auto agent = take(parse_new_agent(parse_body(ctx.request.body)));
  return json_reply(201, take(ctx.db().add_agent(agent)));
}

http_reply list_agents(route_context& ctx) {
  return json_reply(200, {{"agents", ctx.db().list_agents()}});
}

http_reply revoke_agent(route_context& ctx) {
  auto name = percent_decode(ctx.params[0]);
  if (!name || !is_valid_agent_name(*name)) fail(error_code::invalid_request, "not an agent name");
  auto revoked = take(ctx.db().revoke_agent(*name));
  // Its tokens stop working on this server now; on others within their
  // auth cache's expiry (http/auth_cache.hpp).
  if (auto* cache = ctx.services().auth) cache->forget_agent(*name);
  return json_reply(200, revoked);
}

}  // namespace agentq::routes
