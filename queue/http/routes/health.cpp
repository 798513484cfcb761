// Routes without a token: liveness, readiness and the metrics page.
#include "http/metrics.hpp"
#include "http/routes/route_support.hpp"
#include "http/routes/routes.hpp"
#include "store/database_unavailable.hpp"
#include "store/migrator.hpp"

namespace agentq::routes {

http_reply healthz(route_context&) { return json_reply(200, {{"status", "ok"}}); }

// Ready: the database answers and its schema is the one this build needs.
http_reply readyz(route_context& ctx) {
  auto current = ctx.db().schema_version();
  const int latest = latest_schema_version();
  if (current != latest)
    return unavailable_reply("the database schema is at version " +
                                 (current ? std::to_string(*current) : std::string("none")) +
                                 ", this server needs " + std::to_string(latest) +
                                 ": run agentq migrate",
                             ctx.config().retry_after_s);
  return json_reply(200, {{"status", "ready"}, {"schema_version", latest}});
}

http_reply metrics(route_context& ctx) {
  std::optional<queue_stats> stats;
  try {
    stats = ctx.db().queue_stats();
  } catch (const database_unavailable&) {
    ctx.result.database_failed = true;  // still answer this server's own numbers
  }
  const auto& services = ctx.services();
  std::size_t polls = services.open_long_polls ? services.open_long_polls() : 0;
  server_metrics empty;
  const server_metrics& counters = services.metrics ? *services.metrics : empty;
  http_reply reply;
  reply.content_type = "text/plain; version=0.0.4";
  reply.body = counters.render(stats, polls);
  return reply;
}

}  // namespace agentq::routes
