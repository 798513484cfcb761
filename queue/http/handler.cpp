#include "http/handler.hpp"

#include <spdlog/spdlog.h>

#include "core/secrets.hpp"
#include "http/auth_cache.hpp"
#include "gitcore/errors.hpp"
#include "http/metrics.hpp"
#include "http/request_parsing.hpp"
#include "http/routes/route_support.hpp"
#include "http/routes/route_table.hpp"
#include "store/database_unavailable.hpp"

namespace agentq {
namespace {

using json = nlohmann::json;

// Who the bearer token belongs to, or a refusal. A token the database
// accepted moments ago is answered from the cache (no query); its role is
// checked by the caller on every call all the same.
agent_identity authenticate(const http_request& request, const handler_config& config,
                            auth_cache* cache, const std::function<store&()>& get_store) {
  const std::string prefix = "Bearer ";
  if (request.authorization.size() <= prefix.size() ||
      request.authorization.compare(0, prefix.size(), prefix) != 0)
    fail(error_code::unauthenticated,
         "send 'Authorization: Bearer <token>' (an agent's token from agentq agent add)");
  const std::string token = request.authorization.substr(prefix.size());
  if (config.admin_token && !config.admin_token->empty() &&
      constant_time_equal(token, *config.admin_token))
    return agent_identity{0, "admin", agent_role::admin};
  const bool cached = cache && cache->enabled();
  const auto hash = cached ? sha256_hex(token) : std::string();  // the key: never the token
  if (cached)
    if (auto known = cache->find(hash)) return *known;
  const auto epoch = cached ? cache->epoch() : 0;
  auto caller = get_store().authenticate(token);
  if (!caller) fail(error_code::unauthenticated, "unknown or revoked token");
  if (cached) cache->remember(hash, *caller, epoch);
  return *caller;
}

void require_role(const route& r, const agent_identity& caller) {
  if (r.roles & role_bit(caller.role)) return;
  std::string names;
  for (auto role : {agent_role::admin, agent_role::worker, agent_role::reviewer})
    if (r.roles & role_bit(role))
      names += (names.empty() ? "" : " or ") + std::string(to_string(role));
  fail(error_code::forbidden, std::string(r.method) + " " + r.pattern + " is for the " + names +
                                  " role; '" + caller.name + "' is a " +
                                  std::string(to_string(caller.role)));
}

}  // namespace

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
  return unavailable_reply(message, m_config.retry_after_s);
}

std::string request_handler::route_of(const std::string& method, const std::string& target) {
  auto match = match_route(method, target.substr(0, target.find('?')));
  if (!match.found) return "other";
  return (method == "HEAD" ? std::string("HEAD") : std::string(match.found->method)) + " " +
         match.found->pattern;
}

bool request_handler::needs_database(const http_request& request) {
  if (request.body_too_large) return false;
  auto match = match_route(request.method, request.target.substr(0, request.target.find('?')));
  return match.found && match.found->needs_database;
}

template <typename Answer>
void request_handler::answer_guarded(handler_result& result, const Answer& answer) {
  http_reply failed;
  try {
    answer();
    return;
  } catch (const refused& r) {
    if (m_services.metrics) {
      if (r.why.code == error_code::stale_token) m_services.metrics->add_stale_token_refusal();
      if (r.why.code == error_code::lease_expired) m_services.metrics->add_lease_expired_refusal();
    }
    failed = error(r.why);
  } catch (const database_unavailable& e) {
    // The database is unreachable, or the connection broke mid-call: nothing
    // was committed that the caller was told about; it may retry (and the
    // server does once itself when the connection broke: worth_one_retry()).
    failed = unavailable("the database is unavailable; retry later");
    result.database_failed = true;
    result.connection_broke = e.connection_lost();
    result.commit_in_doubt = e.may_have_committed();
  } catch (const std::exception& e) {
    // A bug, not a refusal: answer anyway (the client must not hang) and say
    // so in the log. No contract code fits; 500 tells the truth.
    spdlog::error("event=handler_failed route=\"{}\" error=\"{}\"", result.route, e.what());
    failed = json_reply(
        500, {{"error", {{"code", "internal"}, {"message", "internal error; see the server log"}}}});
  }
  // A failed answer is final: nothing to park, no git to run.
  result.reply = std::move(failed);
  result.git.reset();
  result.park.reset();
  result.wait_for_events.reset();
}

handler_result request_handler::begin(const http_request& request,
                                      const std::function<store&()>& get_store) {
  const std::string route = route_of(request.method, request.target);
  handler_result result;
  result.route = route;  // a failure's log line names it too
  answer_guarded(result, [&] {
    result = dispatch(request, get_store);
    result.route = route;
  });
  return result;
}

git_outcome request_handler::run_git_work(
    const git_step& step, std::optional<std::chrono::steady_clock::time_point> deadline) {
  git_outcome outcome;
  try {
    outcome.value = step.work(deadline);
  } catch (const git::timeout& e) {
    outcome.timed_out = true;
    outcome.error = e.what();
  } catch (const std::exception& e) {
    outcome.error = e.what();
  }
  return outcome;
}

handler_result request_handler::finish_git(const std::string& route, const git_step& step,
                                           const git_outcome& outcome,
                                           const std::function<store&()>& get_store) {
  handler_result result;
  result.route = route;
  answer_guarded(result, [&] { result.reply = step.then(outcome, get_store); });
  return result;
}

handler_result request_handler::handle(const http_request& request,
                                       const std::function<store&()>& get_store) {
  auto result = begin(request, get_store);
  if (!result.git) return result;
  auto step = std::move(*result.git);
  return finish_git(result.route, step, run_git_work(step), get_store);
}

handler_result request_handler::dispatch(const http_request& request,
                                         const std::function<store&()>& get_store) {
  handler_result result;
  if (request.body_too_large || request.body.size() > max_body_bytes)
    fail(error_code::too_large, "the request body is larger than 1 MiB");

  const auto qmark = request.target.find('?');
  const std::string path = request.target.substr(0, qmark);
  std::map<std::string, std::string> query;
  if (qmark != std::string::npos) {
    auto parsed = parse_query(request.target.substr(qmark + 1));
    if (!parsed) fail(error_code::invalid_request, "the query string is not well encoded");
    query = std::move(*parsed);
  }

  auto match = match_route(request.method, path);
  if (!match.found && !match.allow.empty()) {
    result.reply = error(refuse(error_code::method_not_allowed,
                                request.method + " is not allowed on " + path + "; allowed: " +
                                    match.allow));
    result.reply.headers.emplace_back("Allow", match.allow);
    return result;
  }
  if (!match.found) fail(error_code::not_found, "no route " + request.method + " " + path);
  const route& r = *match.found;

  agent_identity caller;
  caller.name.clear();
  if (r.roles != public_route) {
    caller = authenticate(request, m_config, m_services.auth, get_store);
    require_role(r, caller);
  }
  route_context ctx{request, match.params, query, caller, get_store, *this, result};
  result.reply = r.answer(ctx);
  return result;
}

std::optional<http_reply> request_handler::claim_now(const parked_claim& claim, store& db) {
  auto grants = db.claim(claim.agent, claim.queues, claim.lease_s, 1, m_config.first_lease_s);
  if (grants.empty()) return std::nullopt;
  count_granted(grants.front());
  return json_reply(200, grants.front().answer);
}

void request_handler::count_granted(const claim_grant& grant) {
  if (!m_services.metrics) return;
  m_services.metrics->add_claims_granted(1);
  if (grant.took_over_expired_lease) m_services.metrics->add_lease_expirations(1);
}

request_handler::batch_replies request_handler::claim_batch(
    agent_role role, const std::vector<std::string>& queues,
    const std::vector<batch_claimant>& claimants, store& db) {
  auto batch = db.claim_batch(role, queues, claimants, m_config.first_lease_s);
  batch_replies out;
  out.filter_empty = batch.filter_empty;
  out.replies.resize(batch.grants.size());
  for (std::size_t i = 0; i < batch.grants.size(); ++i)
    if (batch.grants[i]) {
      out.replies[i] = json_reply(200, batch.grants[i]->answer);
      count_granted(*batch.grants[i]);
    }
  return out;
}

}  // namespace agentq
