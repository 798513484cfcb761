// A runner reports its health (docs/api.md "Runner health"): an agent
// command that cannot run makes it stop claiming and say why here, so that
// `agentq agent list` shows which runners need fixing.
#include "core/requests.hpp"
#include "http/request_parsing.hpp"
#include "http/routes/route_support.hpp"
#include "http/routes/routes.hpp"

namespace agentq::routes {

http_reply set_runner_status(route_context& ctx) {
  auto request = take(parse_runner_status_request(parse_body(ctx.request.body)));
  return json_reply(200, take(ctx.db().set_runner_status(ctx.caller, request)));
}

}  // namespace agentq::routes
