// The disagreement log: list, show (with the commit's diff stats), resolve.
#include <spdlog/spdlog.h>

#include "core/requests.hpp"
#include "git/repo_gateway.hpp"
#include "http/request_parsing.hpp"
#include "http/routes/route_support.hpp"
#include "http/routes/routes.hpp"

namespace agentq::routes {

using json = nlohmann::json;

// An entry holds up to two 64 KiB texts (the worker's summary, the reasons):
// at most 100 a page keeps an answer near 13 MiB at worst.
constexpr int disagreements_page_max = 100;

http_reply list_disagreements(route_context& ctx) {
  std::string status = "open";
  int limit = disagreements_page_max;
  std::optional<std::int64_t> after;
  for (const auto& [key, value] : ctx.query) {
    if (key == "status") {
      if (value != "open" && value != "resolved" && value != "all")
        fail(error_code::invalid_request, "'status' must be open, resolved or all");
      status = value;
    } else if (key == "limit") {
      auto n = parse_positive(value);
      if (!n || *n > disagreements_page_max)
        fail(error_code::invalid_request, "'limit' must be 1..100");
      limit = static_cast<int>(*n);
    } else if (key == "after" || key == "cursor") {
      if (value.empty()) continue;
      after = parse_positive(value);
      if (!after) fail(error_code::invalid_request, "'" + key + "' must be a cursor from 'next'");
    } else {
      fail(error_code::invalid_request, "unknown query parameter '" + key + "'");
    }
  }
  // One more than asked says whether there is a next page.
  auto entries = ctx.db().list_disagreements(status, limit + 1, after);
  json next = nullptr;
  if (static_cast<int>(entries.size()) > limit) {
    entries.erase(entries.end() - 1);
    next = entries.back()["id"];
  }
  return json_reply(200, {{"disagreements", std::move(entries)}, {"next", next}});
}

// The entry, and what its commit changes: the diff stats are git work (a
// git step). A repository that cannot be read shows the entry without them;
// one that does not answer in time is a 503 like any git deadline.
http_reply get_disagreement(route_context& ctx) {
  auto id = path_id(ctx.params[0], "disagreement");
  auto entry = take(ctx.db().get_disagreement(id));
  auto* gateway = ctx.services().gateway;
  auto target = ctx.db().submit_target(entry["task_id"].get<std::int64_t>());
  if (!gateway || !target)
    return json_reply(200, {{"disagreement", entry}, {"diff_stats", nullptr}});

  git_step step;
  step.repo_name = target->repo_name;
  const git::repo_ref repo{target->repo_name, target->repo_url};
  step.remote_key = git::repo_gateway::remote_key(repo);
  step.work = [gateway, repo, base = target->base_branch,
               commit = entry["commit"].get<std::string>()](auto deadline) {
    return gateway->diff_stats(repo, base, commit, std::nullopt, deadline);
  };
  step.then = [retry_after_s = ctx.config().retry_after_s, id, entry,
               repo_name = target->repo_name](const git_outcome& outcome,
                                              const std::function<store&()>&) {
    if (outcome.timed_out)
      return git_unavailable(repo_name, outcome, "for the diff stats", retry_after_s);
    json stats = nullptr;
    if (outcome.error)
      spdlog::warn("event=diff_stats_failed disagreement={} error=\"{}\"", id, *outcome.error);
    else
      stats = outcome.value;
    return json_reply(200, {{"disagreement", entry}, {"diff_stats", stats}});
  };
  ctx.result.git = std::move(step);
  return {};
}

http_reply resolve_disagreement(route_context& ctx) {
  auto id = path_id(ctx.params[0], "disagreement");
  auto request = take(parse_resolve_request(parse_body(ctx.request.body)));
  auto entry = take(ctx.db().resolve_disagreement(id, request, ctx.caller.name));
  return json_reply(200, {{"disagreement", entry}});
}

}  // namespace agentq::routes
