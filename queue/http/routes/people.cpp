// What people's views need besides the task and disagreement calls: the
// agreement table, the event feed a page follows, and a person amending a
// task's description (the spec-unclear loop).
#include "core/requests.hpp"
#include "http/request_parsing.hpp"
#include "http/routes/route_support.hpp"
#include "http/routes/routes.hpp"

namespace agentq::routes {

http_reply agreement(route_context& ctx) {
  for (const auto& entry : ctx.query)
    fail(error_code::invalid_request, "unknown query parameter '" + entry.first + "'");
  return json_reply(200, ctx.db().agreement_stats());
}

http_reply list_events(route_context& ctx) {
  std::int64_t after = 0;
  int limit = 100;
  int wait_s = 0;
  for (const auto& [key, value] : ctx.query) {
    if (key == "after") {
      if (value.empty() || value == "0") continue;
      auto n = parse_positive(value);
      if (!n) fail(error_code::invalid_request, "'after' must be an event id (0 or more)");
      after = *n;
    } else if (key == "limit") {
      auto n = parse_positive(value);
      if (!n || *n > 1000) fail(error_code::invalid_request, "'limit' must be 1..1000");
      limit = static_cast<int>(*n);
    } else if (key == "wait_s") {
      if (value.empty() || value == "0") continue;
      auto n = parse_positive(value);
      if (!n || *n > limits::wait_max_s)
        fail(error_code::invalid_request, "'wait_s' must be 0..60");
      wait_s = static_cast<int>(*n);
    } else {
      fail(error_code::invalid_request, "unknown query parameter '" + key + "'");
    }
  }
  auto page = ctx.db().events_after(after, limit);
  // Nothing past the cursor yet: a long-poll waits for the next event (the
  // server parks it; see http/event_waiters.hpp).
  if (wait_s > 0 && page["events"].empty()) {
    ctx.result.wait_for_events = parked_events{after, limit, wait_s};
    return {};
  }
  return json_reply(200, page);
}

http_reply amend_task(route_context& ctx) {
  auto id = path_id(ctx.params[0], "task");
  auto request = take(parse_amend_request(parse_body(ctx.request.body)));
  auto change = take(ctx.db().amend_task(id, request, ctx.caller.name));
  return json_reply(200, {{"state", to_string(change.state)}, {"task", change.task}});
}

}  // namespace agentq::routes
