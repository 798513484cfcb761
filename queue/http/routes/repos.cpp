// Repositories: the admin's add and list.
#include "core/requests.hpp"
#include "http/routes/route_support.hpp"
#include "http/routes/routes.hpp"

namespace agentq::routes {

http_reply add_repo(route_context& ctx) {
  auto repo = take(parse_new_repo(parse_body(ctx.request.body)));
  if (auto why = ctx.config().repo_urls.refusal(repo.url)) fail(error_code::invalid_request, *why);
  return json_reply(201, take(ctx.db().add_repo(repo)));
}

http_reply list_repos(route_context& ctx) {
  return json_reply(200, {{"repos", ctx.db().list_repos()}});
}

}  // namespace agentq::routes
