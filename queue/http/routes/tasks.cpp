// Tasks: add, list, show; a person's cancel, requeue and approval.
#include "core/requests.hpp"
#include "http/request_parsing.hpp"
#include "http/routes/landing.hpp"
#include "http/routes/route_support.hpp"
#include "http/routes/routes.hpp"

namespace agentq::routes {
namespace {

// A listing's answer stays small whatever the tasks hold: summaries (a few
// hundred bytes each, no body) up to 1000 a page; with bodies (up to
// limits::body_max each) at most 20 a page, about 5 MiB.
constexpr int summaries_page_default = 100;
constexpr int summaries_page_max = 1000;
constexpr int bodies_page_max = 20;

}  // namespace

http_reply add_task(route_context& ctx) {
  auto task = take(parse_new_task(parse_body(ctx.request.body)));
  auto added = take(ctx.db().add_task(task, ctx.caller.name));
  return json_reply(added.created ? 201 : 200, {{"task", added.task}});
}

http_reply list_tasks(route_context& ctx) {
  std::optional<task_state> state;
  std::optional<std::string> queue;
  std::optional<int> limit;
  std::optional<std::int64_t> after;
  bool with_body = false;
  for (const auto& [key, value] : ctx.query) {
    if (key == "state") {
      if (value.empty()) continue;
      state = parse_task_state(value);
      if (!state) fail(error_code::invalid_request, "'state' is not a task state");
    } else if (key == "queue") {
      if (value.empty()) continue;
      if (!is_valid_name(value)) fail(error_code::invalid_request, "'queue' is not a queue name");
      queue = value;
    } else if (key == "limit") {
      auto n = parse_positive(value);
      if (!n || *n > summaries_page_max) fail(error_code::invalid_request, "'limit' must be 1..1000");
      limit = static_cast<int>(*n);
    } else if (key == "after" || key == "cursor") {
      if (value.empty()) continue;
      after = parse_positive(value);
      if (!after) fail(error_code::invalid_request, "'" + key + "' must be a cursor from 'next'");
    } else if (key == "fields") {
      if (value == "body") {
        with_body = true;
      } else if (!value.empty() && value != "summary") {
        fail(error_code::invalid_request, "'fields' must be 'body' (or 'summary', the default)");
      }
    } else {
      fail(error_code::invalid_request, "unknown query parameter '" + key + "'");
    }
  }
  if (with_body && limit && *limit > bodies_page_max)
    fail(error_code::invalid_request, "'limit' must be 1.." + std::to_string(bodies_page_max) +
                                          " with fields=body (bodies are up to 256 KiB each)");
  const int page_size =
      limit.value_or(with_body ? bodies_page_max : summaries_page_default);
  auto page = ctx.db().list_tasks(state, queue, page_size, after, with_body);
  nlohmann::json answer = {{"tasks", page.tasks}, {"next", nullptr}};
  if (page.next) answer["next"] = *page.next;
  return json_reply(200, answer);
}

http_reply get_task(route_context& ctx) {
  return json_reply(200, take(ctx.db().get_task(path_id(ctx.params[0], "task"))));
}

http_reply cancel_task(route_context& ctx) {
  auto id = path_id(ctx.params[0], "task");
  auto note = take(parse_note_request(parse_body(ctx.request.body, true), "reason"));
  auto change = take(ctx.db().cancel(id, ctx.caller.name, note.note));
  return json_reply(200, {{"state", to_string(change.state)}, {"task", change.task}});
}

http_reply requeue_task(route_context& ctx) {
  auto id = path_id(ctx.params[0], "task");
  auto note = take(parse_note_request(parse_body(ctx.request.body, true), "note"));
  auto change = take(ctx.db().requeue(id, ctx.caller.name, note.note));
  return json_reply(200, {{"state", to_string(change.state)}, {"task", change.task}});
}

// A person overrides the reviewer of a needs_human task (logged in the
// disagreement log as a human override) and the server merges it.
http_reply approve_as_human(route_context& ctx) {
  auto id = path_id(ctx.params[0], "task");
  auto note = take(parse_note_request(parse_body(ctx.request.body, true), "note"));
  auto merge_id = take(ctx.db().approve_as_human(id, ctx.caller.name, note.note));
  return land_merge(ctx, id, merge_id);
}

}  // namespace agentq::routes
