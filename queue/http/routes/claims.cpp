// Claiming work, and the calls of a claim's holder: heartbeat, submit,
// release and (for reviewers) the verdict.
#include <spdlog/spdlog.h>

#include "core/requests.hpp"
#include "git/repo_gateway.hpp"
#include "http/empty_claims.hpp"
#include "http/routes/landing.hpp"
#include "http/routes/route_support.hpp"
#include "http/routes/routes.hpp"

namespace agentq::routes {

using json = nlohmann::json;

http_reply claim(route_context& ctx) {
  auto request = take(parse_claim_request(parse_body(ctx.request.body, true)));
  parked_claim wanted{ctx.caller, request.queues,
                      request.lease_s.value_or(ctx.config().default_lease_s), request.wait_s};
  // A long-poll like a claim that came back empty since anything changed
  // would find nothing again: it parks without a query, so an idle fleet's
  // re-polls cost the database nothing (http/empty_claims.hpp).
  auto* memory = ctx.services().empty_claims_memory;
  if (wanted.wait_s > 0 && memory && memory->known(wanted)) {
    ctx.result.park = std::move(wanted);
    return request_handler::no_content();
  }
  const auto epoch = memory ? memory->epoch() : 0;
  if (auto answer = ctx.handler.claim_now(wanted, ctx.db())) return std::move(*answer);
  if (memory) memory->note(wanted, epoch);
  if (wanted.wait_s > 0) ctx.result.park = std::move(wanted);
  return request_handler::no_content();
}

http_reply heartbeat(route_context& ctx) {
  auto id = path_id(ctx.params[0], "task");
  auto request = take(parse_heartbeat_request(parse_body(ctx.request.body)));
  auto expires = take(ctx.db().heartbeat(id, request, ctx.caller));
  return json_reply(200, {{"lease_expires_at", expires}});
}

// The submit checks that the commit is the tip of the claim's branch in the
// repository before it records anything. That check is git: it runs as a
// git step, after this database step and without its connection.
http_reply submit(route_context& ctx) {
  auto id = path_id(ctx.params[0], "task");
  auto request = take(parse_submit_request(parse_body(ctx.request.body)));
  const std::string branch = claim_branch(id, request.token);
  if (request.branch != branch)
    fail(error_code::invalid_request,
         "'branch' must be " + branch + ", the one branch this claim may push");
  auto record = [id, request, caller = ctx.caller](store& db) {
    auto task = take(db.submit(id, request, caller));
    return json_reply(200, {{"state", "awaiting_review"}, {"task", task}});
  };
  // Only the live claim's holder gets a repository check; anyone else is
  // refused by the guarded submit, unchanged.
  auto target = ctx.db().submit_target(id);
  if (!target) fail(error_code::not_found, "no task " + std::to_string(id));
  auto* gateway = ctx.services().gateway;
  if (!gateway || target->claim_token != request.token || target->claim_agent_id != ctx.caller.id)
    return record(ctx.db());

  git_step step;
  step.repo_name = target->repo_name;
  const git::repo_ref repo{target->repo_name, target->repo_url};
  step.remote_key = git::repo_gateway::remote_key(repo);
  step.work = [gateway, repo, branch, commit = request.commit](auto deadline) -> json {
    return gateway->branch_tip_is(repo, branch, commit, deadline);
  };
  step.then = [retry_after_s = ctx.config().retry_after_s, id, branch, commit = request.commit,
               repo_name = target->repo_name,
               record](const git_outcome& outcome, const std::function<store&()>& get_store) {
    if (outcome.timed_out || outcome.error) {
      // The gateway's messages carry no credentials (it masks them).
      spdlog::warn("event=submit_check_failed task={} repo={} error=\"{}\"", id, repo_name,
                   outcome.error.value_or("timed out"));
      return git_unavailable(repo_name, outcome, "to check the commit", retry_after_s);
    }
    if (!outcome.value.get<bool>())
      fail(error_code::invalid_state, "commit " + commit + " is not the tip of branch " + branch +
                                          " in repository '" + repo_name +
                                          "': push the branch, then submit");
    return record(get_store());
  };
  ctx.result.git = std::move(step);
  return {};
}

http_reply release(route_context& ctx) {
  auto id = path_id(ctx.params[0], "task");
  auto request = take(parse_release_request(parse_body(ctx.request.body)));
  auto change = take(ctx.db().release(id, request, ctx.caller, ctx.config().backoff));
  json answer = {{"state", to_string(change.state)}, {"task", change.task}};
  // Said only to a runner that asked not to be charged (docs/api.md "Runner health").
  if (!request.charge_attempt) answer["charged_attempt"] = change.charged_attempt;
  return json_reply(200, answer);
}

http_reply review(route_context& ctx) {
  auto id = path_id(ctx.params[0], "task");
  auto request = take(parse_review_request(parse_body(ctx.request.body)));
  if (request.verdict == verdict::reject) {
    auto rejected = take(ctx.db().reject(id, request, ctx.caller));
    return json_reply(200, {{"state", to_string(rejected.state)},
                            {"disagreement_id", rejected.disagreement_id},
                            {"task", rejected.task}});
  }
  auto merge_id = take(ctx.db().approve(id, request, ctx.caller));
  return land_merge(ctx, id, merge_id);
}

}  // namespace agentq::routes
