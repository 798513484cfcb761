#include "http/handler.hpp"

#include <map>

#include <spdlog/spdlog.h>

#include "core/requests.hpp"
#include "core/secrets.hpp"
#include "http/metrics.hpp"
#include "http/request_parsing.hpp"
#include "store/database_unavailable.hpp"
#include "store/migrator.hpp"

#include "git/repo_gateway.hpp"
#include "services/merger.hpp"

namespace agentq {
namespace {

using json = nlohmann::json;

// Thrown inside this file only; dispatch() turns it into the error answer.
struct refused : std::exception {
  explicit refused(refusal why) : why(std::move(why)) {}
  refusal why;
};

[[noreturn]] void fail(error_code code, std::string message) {
  throw refused(refuse(code, std::move(message)));
}

template <typename T>
T take(outcome<T> result) {
  if (!result) throw refused(result.error());
  return std::move(result.value());
}

http_reply json_reply(int status, const json& body) {
  http_reply reply;
  reply.status = status;
  reply.body = body.dump();
  return reply;
}

std::int64_t path_id(const std::string& text, const char* what) {
  auto id = parse_positive(text);
  if (!id) fail(error_code::invalid_request, std::string(what) + " id must be a positive integer");
  return *id;
}

// The body as JSON. An empty body counts as {} where every field is optional.
json parse_body(const std::string& body, bool empty_is_object) {
  if (body.empty() && empty_is_object) return json::object();
  if (!nesting_within(body, 32))
    fail(error_code::invalid_request, "the request body nests deeper than 32 levels");
  json parsed = json::parse(body, nullptr, false);
  if (parsed.is_discarded())
    fail(error_code::invalid_request, "the request body is not valid JSON (UTF-8)");
  return parsed;
}

std::string_view role_name(agent_role role) { return to_string(role); }

}  // namespace

// ------------------------------------------------------------- one request

struct request_handler::context {
  const http_request& request;
  const std::function<store&()>& get_store;
  std::string path;
  std::map<std::string, std::string> query;
  std::vector<std::string> parts;
  std::string route;
  std::optional<parked_claim> park;
  std::optional<agent_identity> caller;

  store& db() { return get_store(); }
};

request_handler::request_handler(handler_config config, handler_services services)
    : m_config(std::move(config)), m_services(std::move(services)) {}

http_reply request_handler::error(const refusal& why) {
  return json_reply(http_status(why.code),
                    {{"error", {{"code", to_string(why.code)}, {"message", why.message}}}});
}

http_reply request_handler::no_content() {
  http_reply reply;
  reply.status = 204;
  reply.content_type.clear();
  return reply;
}

http_reply request_handler::unavailable(const std::string& message) const {
  auto reply = error(refuse(error_code::unavailable, message));
  reply.headers.emplace_back("Retry-After", std::to_string(m_config.retry_after_s));
  return reply;
}

std::string request_handler::route_of(const std::string& method, const std::string& target) {
  std::string path = target.substr(0, target.find('?'));
  auto parts = split_path(path);
  if (!parts) return method + " unknown";
  const auto& p = *parts;
  const std::size_t n = p.size();
  auto is = [&](std::size_t i, const char* text) { return n > i && p[i] == text; };
  std::string pattern;
  if (n == 1 && (p[0] == "healthz" || p[0] == "readyz" || p[0] == "metrics")) {
    pattern = "/" + p[0];
  } else if (n >= 2 && is(0, "v1")) {
    const std::string& noun = p[1];
    if (n == 2 && (noun == "tasks" || noun == "claims" || noun == "repos" || noun == "agents" ||
                   noun == "disagreements" || noun == "whoami"))
      pattern = "/v1/" + noun;
    else if (n == 3 && (noun == "tasks" || noun == "disagreements"))
      pattern = "/v1/" + noun + "/{id}";
    else if (n == 3 && noun == "agents")
      pattern = "/v1/agents/{name}";
    else if (n == 4 && noun == "tasks" &&
             (p[3] == "heartbeat" || p[3] == "submit" || p[3] == "release" ||
              p[3] == "review" || p[3] == "cancel" || p[3] == "requeue" || p[3] == "approve"))
      pattern = "/v1/tasks/{id}/" + p[3];
    else if (n == 4 && noun == "disagreements" && p[3] == "resolve")
      pattern = "/v1/disagreements/{id}/resolve";
  }
  if (pattern.empty()) return method + " unknown";
  return method + " " + pattern;
}

bool request_handler::needs_database(const http_request& request) {
  if (request.body_too_large) return false;
  auto route = route_of(request.method, request.target);
  return route != "GET /healthz" && route.find(" unknown") == std::string::npos;
}

handler_result request_handler::handle(const http_request& request,
                                       const std::function<store&()>& get_store) {
  context ctx{request, get_store, {}, {}, {}, {}, {}, {}};
  ctx.route = route_of(request.method, request.target);
  handler_result result;
  result.route = ctx.route;
  try {
    result = dispatch(ctx);
  } catch (const refused& r) {
    if (r.why.code == error_code::stale_token && m_services.metrics)
      m_services.metrics->add_stale_token_refusal();
    result.reply = error(r.why);
  } catch (const database_unavailable&) {
    // The database is unreachable, or the connection broke mid-call: nothing
    // was committed that the caller was told about; it may retry.
    result.reply = unavailable("the database is unavailable; retry later");
    result.database_failed = true;
  } catch (const std::exception& e) {
    // A bug, not a refusal: answer anyway (the client must not hang) and say
    // so in the log. No contract code fits; 500 tells the truth.
    spdlog::error("event=handler_failed route=\"{}\" error=\"{}\"", ctx.route, e.what());
    result.reply = json_reply(
        500, {{"error", {{"code", "internal"}, {"message", "internal error; see the server log"}}}});
  }
  result.route = ctx.route;
  return result;
}

handler_result request_handler::dispatch(context& ctx) {
  const auto& req = ctx.request;
  handler_result result;
  if (req.body_too_large || req.body.size() > max_body_bytes)
    fail(error_code::too_large, "the request body is larger than 1 MiB");

  const auto qmark = req.target.find('?');
  ctx.path = req.target.substr(0, qmark);
  if (qmark != std::string::npos) {
    auto query = parse_query(req.target.substr(qmark + 1));
    if (!query) fail(error_code::invalid_request, "the query string is not well encoded");
    ctx.query = std::move(*query);
  }
  if (ctx.route.ends_with(" unknown"))
    fail(error_code::not_found, "no route " + req.method + " " + ctx.path);
  ctx.parts = *split_path(ctx.path);
  const auto& route = ctx.route;

  // Routes without a token.
  if (route == "GET /healthz") {
    result.reply = json_reply(200, {{"status", "ok"}});
    return result;
  }
  if (route == "GET /readyz") {
    auto& db = ctx.db();
    auto current = db.schema_version();
    const int latest = latest_schema_version();
    if (current != latest) {
      auto reply = json_reply(503, {{"error",
                                     {{"code", "unavailable"},
                                      {"message", "the database schema is at version " +
                                                      (current ? std::to_string(*current)
                                                               : std::string("none")) +
                                                      ", this server needs " +
                                                      std::to_string(latest) +
                                                      ": run agentq migrate"}}}});
      reply.headers.emplace_back("Retry-After", std::to_string(m_config.retry_after_s));
      result.reply = reply;
      return result;
    }
    result.reply = json_reply(200, {{"status", "ready"}, {"schema_version", latest}});
    return result;
  }
  if (route == "GET /metrics") {
    std::optional<queue_stats> stats;
    try {
      stats = ctx.db().queue_stats();
    } catch (const database_unavailable&) {
      result.database_failed = true;  // still answer this server's own numbers
    }
    std::size_t polls = m_services.open_long_polls ? m_services.open_long_polls() : 0;
    server_metrics empty;
    const server_metrics& metrics = m_services.metrics ? *m_services.metrics : empty;
    result.reply.status = 200;
    result.reply.content_type = "text/plain; version=0.0.4";
    result.reply.body = metrics.render(stats, polls);
    return result;
  }

  // Everything else: a bearer token, then the route's role.
  const std::string prefix = "Bearer ";
  if (req.authorization.size() <= prefix.size() ||
      req.authorization.compare(0, prefix.size(), prefix) != 0)
    fail(error_code::unauthenticated,
         "send 'Authorization: Bearer <token>' (an agent's token from agentq agent add)");
  const std::string token = req.authorization.substr(prefix.size());
  if (m_config.admin_token && !m_config.admin_token->empty() &&
      constant_time_equal(token, *m_config.admin_token)) {
    ctx.caller = agent_identity{0, "admin", agent_role::admin};
  } else {
    ctx.caller = ctx.db().authenticate(token);
  }
  if (!ctx.caller) fail(error_code::unauthenticated, "unknown or revoked token");
  const agent_identity& caller = *ctx.caller;

  auto require = [&](std::initializer_list<agent_role> roles) {
    for (auto role : roles)
      if (caller.role == role) return;
    std::string names;
    for (auto role : roles) names += (names.empty() ? "" : " or ") + std::string(role_name(role));
    fail(error_code::forbidden, route + " is for the " + names + " role; '" + caller.name +
                                    "' is a " + std::string(role_name(caller.role)));
  };
  const auto& p = ctx.parts;
  auto body = [&](bool empty_is_object = false) { return parse_body(req.body, empty_is_object); };

  if (route == "GET /v1/whoami") {
    // Lets a runner check its token's role before it claims anything.
    result.reply = json_reply(200, {{"name", caller.name}, {"role", role_name(caller.role)}});
    return result;
  }

  // ---- tasks
  if (route == "POST /v1/tasks") {
    require({agent_role::admin});
    auto task = take(parse_new_task(body()));
    auto added = take(ctx.db().add_task(task, caller.name));
    result.reply = json_reply(added.created ? 201 : 200, {{"task", added.task}});
    return result;
  }
  if (route == "GET /v1/tasks") {
    std::optional<task_state> state;
    std::optional<std::string> queue;
    int limit = 100;
    std::optional<std::int64_t> after;
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
        if (!n || *n > 1000) fail(error_code::invalid_request, "'limit' must be 1..1000");
        limit = static_cast<int>(*n);
      } else if (key == "after") {
        if (value.empty()) continue;
        after = parse_positive(value);
        if (!after) fail(error_code::invalid_request, "'after' must be a cursor from 'next'");
      } else {
        fail(error_code::invalid_request, "unknown query parameter '" + key + "'");
      }
    }
    auto page = ctx.db().list_tasks(state, queue, limit, after);
    json answer = {{"tasks", page.tasks}, {"next", nullptr}};
    if (page.next) answer["next"] = *page.next;
    result.reply = json_reply(200, answer);
    return result;
  }
  if (route == "GET /v1/tasks/{id}") {
    auto id = path_id(p[2], "task");
    result.reply = json_reply(200, take(ctx.db().get_task(id)));
    return result;
  }

  // ---- claims
  if (route == "POST /v1/claims") {
    require({agent_role::worker, agent_role::reviewer});
    auto request = take(parse_claim_request(body(true)));
    parked_claim claim{caller, request.queues, request.lease_s.value_or(m_config.default_lease_s),
                       request.wait_s};
    if (auto answer = claim_now(claim, ctx.db())) {
      result.reply = std::move(*answer);
    } else if (claim.wait_s > 0) {
      result.reply = no_content();
      result.park = std::move(claim);
    } else {
      result.reply = no_content();
    }
    return result;
  }

  // ---- a holder's calls
  if (route == "POST /v1/tasks/{id}/heartbeat") {
    require({agent_role::worker, agent_role::reviewer});
    auto id = path_id(p[2], "task");
    auto request = take(parse_heartbeat_request(body()));
    auto expires = take(ctx.db().heartbeat(id, request, caller));
    result.reply = json_reply(200, {{"lease_expires_at", expires}});
    return result;
  }
  if (route == "POST /v1/tasks/{id}/submit") {
    require({agent_role::worker});
    auto id = path_id(p[2], "task");
    auto request = take(parse_submit_request(body()));
    const std::string branch = claim_branch(id, request.token);
    if (request.branch != branch)
      fail(error_code::invalid_request,
           "'branch' must be " + branch + ", the one branch this claim may push");
    // The repository check costs a fetch: only the live claim's holder gets
    // one. Anyone else is refused by the guarded submit below, unchanged.
    auto target = ctx.db().submit_target(id);
    if (!target) fail(error_code::not_found, "no task " + std::to_string(id));
    if (target->claim_token == request.token && target->claim_agent_id == caller.id) {
      if (m_services.gateway) {
        bool is_tip = false;
        try {
          is_tip = m_services.gateway->branch_tip_is({target->repo_name, target->repo_url},
                                                     branch, request.commit);
        } catch (const std::runtime_error& e) {
          // The gateway's messages carry no credentials (it masks them).
          spdlog::warn("event=submit_check_failed task={} repo={} error=\"{}\"", id,
                       target->repo_name, e.what());
          auto reply = unavailable("cannot read repository '" + target->repo_name +
                                   "' to check the commit; retry later");
          result.reply = reply;
          return result;
        }
        if (!is_tip)
          fail(error_code::invalid_state,
               "commit " + request.commit + " is not the tip of branch " + branch +
                   " in repository '" + target->repo_name + "': push the branch, then submit");
      }
    }
    auto task = take(ctx.db().submit(id, request, caller));
    result.reply = json_reply(200, {{"state", "awaiting_review"}, {"task", task}});
    return result;
  }
  if (route == "POST /v1/tasks/{id}/release") {
    require({agent_role::worker, agent_role::reviewer});
    auto id = path_id(p[2], "task");
    auto request = take(parse_release_request(body()));
    auto change = take(ctx.db().release(id, request, caller, m_config.backoff));
    result.reply = json_reply(200, {{"state", to_string(change.state)}, {"task", change.task}});
    return result;
  }
  if (route == "POST /v1/tasks/{id}/review") {
    require({agent_role::reviewer});
    auto id = path_id(p[2], "task");
    auto request = take(parse_review_request(body()));
    if (request.verdict == verdict::reject) {
      auto rejected = take(ctx.db().reject(id, request, caller));
      result.reply = json_reply(200, {{"state", to_string(rejected.state)},
                                      {"disagreement_id", rejected.disagreement_id},
                                      {"task", rejected.task}});
      return result;
    }
    auto merge_id = take(ctx.db().approve(id, request, caller));
    result.reply = land(id, merge_id);
    return result;
  }
  if (route == "POST /v1/tasks/{id}/approve") {
    // A person overrides the reviewer of a needs_human task (logged in the
    // disagreement log as a human override) and the server merges it.
    require({agent_role::admin});
    auto id = path_id(p[2], "task");
    auto note = take(parse_note_request(body(true), "note"));
    auto merge_id = take(ctx.db().approve_as_human(id, caller.name, note.note));
    result.reply = land(id, merge_id);
    return result;
  }

  // ---- admin: tasks
  if (route == "POST /v1/tasks/{id}/cancel" || route == "POST /v1/tasks/{id}/requeue") {
    require({agent_role::admin});
    auto id = path_id(p[2], "task");
    const bool cancel = p[3] == "cancel";
    auto note = take(parse_note_request(body(true), cancel ? "reason" : "note"));
    auto change = cancel ? take(ctx.db().cancel(id, caller.name, note.note))
                         : take(ctx.db().requeue(id, caller.name, note.note));
    result.reply = json_reply(200, {{"state", to_string(change.state)}, {"task", change.task}});
    return result;
  }

  // ---- admin: repositories and agents
  if (route == "POST /v1/repos") {
    require({agent_role::admin});
    auto repo = take(parse_new_repo(body()));
    result.reply = json_reply(201, take(ctx.db().add_repo(repo)));
    return result;
  }
  if (route == "GET /v1/repos") {
    require({agent_role::admin});
    result.reply = json_reply(200, {{"repos", ctx.db().list_repos()}});
    return result;
  }
  if (route == "POST /v1/agents") {
    require({agent_role::admin});
    auto agent = take(parse_new_agent(body()));
    result.reply = json_reply(201, take(ctx.db().add_agent(agent)));
    return result;
  }
  if (route == "GET /v1/agents") {
    require({agent_role::admin});
    result.reply = json_reply(200, {{"agents", ctx.db().list_agents()}});
    return result;
  }
  if (route == "DELETE /v1/agents/{name}") {
    require({agent_role::admin});
    auto name = percent_decode(p[2]);
    if (!name || !is_valid_agent_name(*name))
      fail(error_code::invalid_request, "not an agent name");
    result.reply = json_reply(200, take(ctx.db().revoke_agent(*name)));
    return result;
  }

  // ---- the disagreement log
  if (route == "GET /v1/disagreements") {
    std::string status = "open";
    int limit = 100;
    for (const auto& [key, value] : ctx.query) {
      if (key == "status") {
        if (value != "open" && value != "resolved" && value != "all")
          fail(error_code::invalid_request, "'status' must be open, resolved or all");
        status = value;
      } else if (key == "limit") {
        auto n = parse_positive(value);
        if (!n || *n > 1000) fail(error_code::invalid_request, "'limit' must be 1..1000");
        limit = static_cast<int>(*n);
      } else {
        fail(error_code::invalid_request, "unknown query parameter '" + key + "'");
      }
    }
    result.reply = json_reply(200, {{"disagreements", ctx.db().list_disagreements(status, limit)}});
    return result;
  }
  if (route == "GET /v1/disagreements/{id}") {
    auto id = path_id(p[2], "disagreement");
    auto entry = take(ctx.db().get_disagreement(id));
    json diff_stats = disagreement_diff_stats(ctx.db(), entry);
    result.reply = json_reply(200, {{"disagreement", entry}, {"diff_stats", diff_stats}});
    return result;
  }
  if (route == "POST /v1/disagreements/{id}/resolve") {
    require({agent_role::admin});
    auto id = path_id(p[2], "disagreement");
    auto request = take(parse_resolve_request(body()));
    auto entry = take(ctx.db().resolve_disagreement(id, request, caller.name));
    result.reply = json_reply(200, {{"disagreement", entry}});
    return result;
  }

  fail(error_code::not_found, "no route " + req.method + " " + ctx.path);
}

std::optional<http_reply> request_handler::claim_now(const parked_claim& claim, store& db) {
  auto grants = db.claim(claim.agent, claim.queues, claim.lease_s, 1);
  if (grants.empty()) return std::nullopt;
  if (m_services.metrics) m_services.metrics->add_claims_granted(1);
  return json_reply(200, grants.front().answer);
}

http_reply request_handler::land(std::int64_t task_id, std::int64_t merge_id) {
  if (!m_services.merger)  // a handler without services (tests): the merge stays pending
    return json_reply(200, {{"state", "reviewing"}, {"merge_id", merge_id}});
  merge_result landed;
  try {
    landed = m_services.merger->land(merge_id);
  } catch (const database_unavailable&) {
    throw;
  } catch (const std::exception& e) {
    spdlog::warn("event=merge_failed task={} merge={} error=\"{}\"", task_id, merge_id,
                 e.what());
    // The merge stays pending: the merger's loop retries it, and a repeated
    // approval with the same token lands the same merge.
    return unavailable("the approval is recorded but the merge could not be made yet; it is "
                       "retried automatically");
  }
  if (landed.outcome == merge_result::kind::merged)
    return json_reply(200, {{"state", "done"},
                            {"merge_commit", landed.merge_commit},
                            {"task", landed.task}});
  return json_reply(200, {{"state", "queued"},
                          {"reason", "merge_conflict"},
                          {"detail", landed.detail},
                          {"task", landed.task}});
}

json request_handler::disagreement_diff_stats(store& db, const json& entry) {
  if (!m_services.gateway) return nullptr;
  auto target = db.submit_target(entry["task_id"].get<std::int64_t>());
  if (!target) return nullptr;
  try {
    return m_services.gateway->diff_stats({target->repo_name, target->repo_url},
                                          target->base_branch,
                                          entry["commit"].get<std::string>());
  } catch (const std::exception& e) {
    spdlog::warn("event=diff_stats_failed disagreement={} error=\"{}\"",
                 entry["id"].get<std::int64_t>(), e.what());
    return nullptr;
  }
}

}  // namespace agentq
