// The pure request handler (no socket) against a real database: every route,
// every error code, roles, and the bad-input table, each refusal checked to
// have changed nothing.
#include <catch2/catch.hpp>


#include "core/requests.hpp"
#include "handler_fixture.hpp"

using namespace agentq;
using namespace agentq::testing;
using nlohmann::json;

namespace {

json body_of(const handler_result& r) { return json::parse(r.reply.body); }

std::string code_of(const handler_result& r) {
  auto body = json::parse(r.reply.body, nullptr, false);
  if (!body.is_object() || !body.contains("error")) return "";
  return body["error"]["code"].get<std::string>();
}

std::string task_path(std::int64_t id, const std::string& verb = "") {
  return "/v1/tasks/" + std::to_string(id) + (verb.empty() ? "" : "/" + verb);
}

json submit_body(std::int64_t id, std::int64_t token) {
  return {{"token", token},
          {"branch", claim_branch(id, token)},
          {"commit", std::string(40, 'a')},
          {"summary", "did it"}};
}

}  // namespace

TEST_CASE("handler: a task's whole life through the API", "[handler]") {
  handler_fixture f;
  const auto& admin = handler_admin_token;

  // add, with an idempotency key: 201, then 200 with the same task
  auto added = f.call("POST", "/v1/tasks", admin,
                      {{"title", "Fix it"}, {"body", "the parser"}, {"repo", "demo"},
                       {"priority", 5}, {"labels", {"bug"}}, {"idempotency_key", "k-1"}});
  REQUIRE(added.reply.status == 201);
  CHECK(added.route == "POST /v1/tasks");
  const auto id = body_of(added)["task"]["id"].get<std::int64_t>();
  CHECK(body_of(added)["task"]["state"] == "queued");
  auto again = f.call("POST", "/v1/tasks", admin,
                      {{"title", "Fix it"}, {"body", "the parser"}, {"repo", "demo"},
                       {"idempotency_key", "k-1"}});
  CHECK(again.reply.status == 200);
  CHECK(body_of(again)["task"]["id"] == id);

  // list (any role) and show
  auto listed = f.call("GET", "/v1/tasks?state=queued&limit=10", f.worker1);
  REQUIRE(listed.reply.status == 200);
  CHECK(body_of(listed)["tasks"].size() == 1);
  CHECK(body_of(listed)["next"].is_null());
  auto shown = f.call("GET", task_path(id), f.reviewer1);
  REQUIRE(shown.reply.status == 200);
  CHECK(body_of(shown)["task"]["title"] == "Fix it");
  CHECK(body_of(shown).contains("events"));

  // a worker claims: task, claim, repo, feedback
  auto grant = f.claim(f.worker1, {{"lease_s", 60}});
  CHECK(grant["task"]["id"] == id);
  CHECK(grant["claim"]["lease_s"] == 60);
  CHECK(grant["repo"]["name"] == "demo");
  CHECK(grant["feedback"].is_array());
  const auto token = grant["claim"]["token"].get<std::int64_t>();

  // nothing else to claim: 204 at once with wait_s 0
  auto empty = f.call("POST", "/v1/claims", f.worker2, json::object());
  CHECK(empty.reply.status == 204);
  CHECK_FALSE(empty.park);
  // with wait_s the handler asks to park the claim
  auto wait = f.call("POST", "/v1/claims", f.worker2, {{"wait_s", 5}});
  REQUIRE(wait.park);
  CHECK(wait.park->wait_s == 5);
  CHECK(wait.park->lease_s == 300);  // the server's default
  CHECK(wait.park->agent.name == "worker-2");

  auto beat = f.call("POST", task_path(id, "heartbeat"), f.worker1,
                     {{"token", token}, {"progress", "half"}});
  REQUIRE(beat.reply.status == 200);
  CHECK(body_of(beat).contains("lease_expires_at"));

  auto submitted = f.call("POST", task_path(id, "submit"), f.worker1, submit_body(id, token));
  REQUIRE(submitted.reply.status == 200);
  CHECK(body_of(submitted)["state"] == "awaiting_review");

  // the reviewer's claim carries the submission; reject → queued + disagreement
  auto review = f.claim(f.reviewer1);
  CHECK(review["submission"]["branch"] == claim_branch(id, token));
  CHECK(review["submission"]["worker"] == "worker-1");
  const auto review_token = review["claim"]["token"].get<std::int64_t>();
  auto rejected = f.call("POST", task_path(id, "review"), f.reviewer1,
                         {{"token", review_token}, {"verdict", "reject"},
                          {"reasons", "no test\nand more"}});
  REQUIRE(rejected.reply.status == 200);
  CHECK(body_of(rejected)["state"] == "queued");
  const auto disagreement = body_of(rejected)["disagreement_id"].get<std::int64_t>();

  // the disagreement log: list, show, resolve (admin), resolved listing
  auto open = f.call("GET", "/v1/disagreements", f.worker1);
  REQUIRE(open.reply.status == 200);
  REQUIRE(body_of(open)["disagreements"].size() == 1);
  CHECK(body_of(open)["disagreements"][0]["reasons"] == "no test\nand more");
  CHECK(body_of(open)["disagreements"][0]["worker_summary"] == "did it");
  auto one = f.call("GET", "/v1/disagreements/" + std::to_string(disagreement), f.reviewer2);
  REQUIRE(one.reply.status == 200);
  CHECK(body_of(one)["disagreement"]["id"] == disagreement);
  auto resolved = f.call("POST", "/v1/disagreements/" + std::to_string(disagreement) + "/resolve",
                         admin, {{"decision", "reviewer_right"}, {"note", "tests matter"}});
  REQUIRE(resolved.reply.status == 200);
  CHECK(body_of(resolved)["disagreement"]["resolution"]["decision"] == "reviewer_right");
  CHECK(body_of(f.call("GET", "/v1/disagreements", admin))["disagreements"].empty());
  CHECK(body_of(f.call("GET", "/v1/disagreements?status=resolved", admin))["disagreements"]
            .size() == 1);

  // the worker's next claim has the feedback; release with retry → queued
  auto second = f.claim(f.worker2);
  CHECK(second["task"]["id"] == id);
  CHECK(second["feedback"].size() == 1);
  auto released = f.call("POST", task_path(id, "release"), f.worker2,
                         {{"token", second["claim"]["token"]}, {"reason", "stuck"},
                          {"retry", true}});
  REQUIRE(released.reply.status == 200);
  CHECK(body_of(released)["state"] == "queued");

  // admin: cancel, then requeue
  auto cancelled = f.call("POST", task_path(id, "cancel"), admin, {{"reason", "not needed"}});
  REQUIRE(cancelled.reply.status == 200);
  CHECK(body_of(cancelled)["state"] == "cancelled");
  auto requeued = f.call("POST", task_path(id, "requeue"), admin, json::object());
  REQUIRE(requeued.reply.status == 200);
  CHECK(body_of(requeued)["state"] == "queued");
  auto cancel_empty_body = f.raw("POST", task_path(id, "cancel"), admin, "");
  CHECK(cancel_empty_body.reply.status == 200);

  // repositories and agents
  auto repos = f.call("GET", "/v1/repos", admin);
  REQUIRE(repos.reply.status == 200);
  CHECK(body_of(repos)["repos"][0]["name"] == "demo");
  auto agents = f.call("GET", "/v1/agents", f.admin2);  // an agent with the admin role
  REQUIRE(agents.reply.status == 200);
  CHECK(body_of(agents)["agents"].size() == 5);
  for (const auto& a : body_of(agents)["agents"]) CHECK_FALSE(a.contains("token"));
  auto revoked = f.call("DELETE", "/v1/agents/worker-2", admin);
  CHECK(revoked.reply.status == 200);
  auto after_revoke = f.call("GET", "/v1/tasks", f.worker2);
  CHECK(after_revoke.reply.status == 401);
  CHECK(code_of(after_revoke) == "unauthenticated");
}

TEST_CASE("handler: an approval without a merger records a pending merge", "[handler]") {
  handler_fixture f;
  auto id = f.add_task();
  auto grant = f.claim(f.worker1);
  auto token = grant["claim"]["token"].get<std::int64_t>();
  REQUIRE(f.call("POST", task_path(id, "submit"), f.worker1, submit_body(id, token))
              .reply.status == 200);
  auto review = f.claim(f.reviewer1);
  auto approved = f.call("POST", task_path(id, "review"), f.reviewer1,
                         {{"token", review["claim"]["token"]}, {"verdict", "approve"},
                          {"reasons", "fine"}});
  REQUIRE(approved.reply.status == 200);
  CHECK(body_of(approved).contains("merge_id"));
  auto fp = f.fingerprint();
  REQUIRE(fp["merges"].size() == 1);
  CHECK(fp["merges"][0]["status"] == "pending");
}

TEST_CASE("handler: health and readiness and metrics", "[handler]") {
  handler_fixture f;
  auto health = f.call("GET", "/healthz", "");
  CHECK(health.reply.status == 200);
  CHECK_FALSE(request_handler::needs_database({"GET", "/healthz", "", "", false}));
  auto ready = f.call("GET", "/readyz", "");
  CHECK(ready.reply.status == 200);
  CHECK(body_of(ready)["schema_version"].is_number());

  f.add_task();
  f.claim(f.worker1);
  auto id = f.add_task();
  f.claim(f.worker2);
  f.call("POST", task_path(id, "heartbeat"), f.worker2, {{"token", 1}});  // stale
  auto metrics = f.call("GET", "/metrics", "");
  REQUIRE(metrics.reply.status == 200);
  CHECK(metrics.reply.content_type.find("text/plain") == 0);
  const auto& text = metrics.reply.body;
  CHECK(text.find("agentq_tasks{state=\"working\"} 2") != std::string::npos);
  CHECK(text.find("agentq_tasks{state=\"queued\"} 0") != std::string::npos);
  CHECK(text.find("agentq_claims_total 2") != std::string::npos);
  CHECK(text.find("agentq_stale_token_refusals_total 1") != std::string::npos);
  CHECK(text.find("agentq_lease_expired_refusals_total 0") != std::string::npos);
  CHECK(text.find("agentq_lease_expirations_total 0") != std::string::npos);
  CHECK(text.find("agentq_open_long_polls 0") != std::string::npos);
}

TEST_CASE("handler: an unreachable database answers 503 with Retry-After", "[handler]") {
  handler_fixture f;
  http_request request{"GET", "/v1/tasks", "Bearer " + f.worker1, "", false};
  auto down = f.handler.handle(request, []() -> store& {
    throw database_unavailable("connection refused");
  });
  CHECK(down.reply.status == 503);
  CHECK(code_of(down) == "unavailable");
  CHECK(down.database_failed);
  bool has_retry_after = false;
  for (const auto& [name, value] : down.reply.headers)
    if (name == "Retry-After") has_retry_after = !value.empty();
  CHECK(has_retry_after);
  // readiness says so too; health does not need the database
  http_request ready{"GET", "/readyz", "", "", false};
  CHECK(f.handler.handle(ready, []() -> store& { throw database_unavailable("down"); })
            .reply.status == 503);
  http_request health{"GET", "/healthz", "", "", false};
  CHECK(f.handler.handle(health, []() -> store& { throw database_unavailable("down"); })
            .reply.status == 200);
}

TEST_CASE("handler: bad input is refused with the contract's code and changes nothing",
          "[handler][bad-input]") {
  handler_fixture f;
  const auto& admin = handler_admin_token;
  auto id = f.add_task();
  auto grant = f.claim(f.worker1);
  auto token = grant["claim"]["token"].get<std::int64_t>();
  const std::string big(max_body_bytes + 1, ' ');
  const std::string sid = std::to_string(id);
  const std::string good_task = R"({"title": "t", "body": "", "repo": "demo"})";

  struct bad {
    std::string name, method, target, token, body;
    int status;
    std::string code;
    std::string names = {};  // when set, the error message must hold it
  };
  const std::vector<bad> table = {
      {"no token", "GET", "/v1/tasks", "", "", 401, "unauthenticated"},
      {"unknown token", "GET", "/v1/tasks", "aq_nope", "", 401, "unauthenticated"},
      {"malformed JSON", "POST", "/v1/tasks", admin, "{\"title\": ", 400, "invalid_request"},
      {"not an object", "POST", "/v1/tasks", admin, "[1,2]", 400, "invalid_request"},
      {"invalid UTF-8", "POST", "/v1/tasks", admin,
       "{\"title\":\"\xff\xfe\",\"body\":\"\",\"repo\":\"demo\"}", 400, "invalid_request"},
      {"deep nesting", "POST", "/v1/tasks", admin, std::string(100000, '['), 400,
       "invalid_request"},
      {"duplicate key", "POST", "/v1/tasks", admin,
       R"({"title": "t", "body": "", "repo": "demo", "title": "u"})", 400, "invalid_request",
       "repeats the key 'title'"},
      {"duplicate token", "POST", "/v1/tasks/" + sid + "/heartbeat", f.worker1,
       "{\"token\": 1, \"token\": " + std::to_string(token) + "}", 400, "invalid_request",
       "'token'"},
      {"duplicate key in a nested object", "POST", "/v1/tasks", admin,
       R"({"title": "t", "body": "", "repo": "demo", "labels": [{"a": 1, "a": 2}]})", 400,
       "invalid_request", "repeats the key 'a'"},
      {"NUL after the document", "POST", "/v1/tasks", admin,
       good_task + '\0', 400, "invalid_request", "NUL"},
      {"NUL and garbage after the document", "POST", "/v1/tasks", admin,
       good_task + '\0' + "garbage}{", 400, "invalid_request", "NUL"},
      {"garbage after the document", "POST", "/v1/tasks", admin,
       R"({"title": "t", "body": "", "repo": "demo"} x)", 400, "invalid_request"},
      {"wrong type", "POST", "/v1/tasks", admin,
       R"({"title": 5, "body": "", "repo": "demo"})", 400, "invalid_request"},
      {"unknown field", "POST", "/v1/tasks", admin,
       R"({"title": "t", "body": "", "repo": "demo", "colour": "red"})", 400, "invalid_request"},
      {"out of range", "POST", "/v1/tasks", admin,
       R"({"title": "t", "body": "", "repo": "demo", "max_attempts": 100000})", 400,
       "invalid_request"},
      // Well-formed but impossible times: the client's mistake, not a 503.
      {"run_after 2026-02-31", "POST", "/v1/tasks", admin,
       R"({"title": "t", "body": "", "repo": "demo", "run_after": "2026-02-31T00:00:00Z"})", 400,
       "invalid_request", "run_after"},
      {"run_after 2026-02-29", "POST", "/v1/tasks", admin,
       R"({"title": "t", "body": "", "repo": "demo", "run_after": "2026-02-29T00:00:00Z"})", 400,
       "invalid_request", "run_after"},
      {"run_after year 0000", "POST", "/v1/tasks", admin,
       R"({"title": "t", "body": "", "repo": "demo", "run_after": "0000-01-01T00:00:00Z"})", 400,
       "invalid_request", "run_after"},
      {"run_after offset -23:59 past 9999", "POST", "/v1/tasks", admin,
       R"({"title": "t", "body": "", "repo": "demo", "run_after": "9999-12-31T23:59:59-23:59"})",
       400, "invalid_request", "run_after"},
      {"unknown repo", "POST", "/v1/tasks", admin,
       R"({"title": "t", "body": "", "repo": "nope"})", 400, "invalid_request"},
      {"SQL-looking repo", "POST", "/v1/tasks", admin,
       R"({"title": "t'); drop table tasks; --", "body": "", "repo": "demo'; drop table tasks; --"})",
       400, "invalid_request"},
      {"oversize body", "POST", "/v1/tasks", admin, big, 413, "too_large"},
      {"non-numeric id", "GET", "/v1/tasks/abc", admin, "", 400, "invalid_request"},
      {"negative id", "GET", "/v1/tasks/-1", admin, "", 400, "invalid_request"},
      {"huge id", "GET", "/v1/tasks/99999999999999999999999", admin, "", 400, "invalid_request"},
      {"unknown id", "GET", "/v1/tasks/987654", admin, "", 404, "not_found"},
      {"unknown route", "GET", "/v1/nothing", admin, "", 404, "not_found"},
      {"wrong method (405, Allow)", "PUT", "/v1/tasks", admin, "", 405, "method_not_allowed"},
      {"unknown query parameter", "GET", "/v1/tasks?colour=red", admin, "", 400,
       "invalid_request"},
      {"bad state filter", "GET", "/v1/tasks?state=sleeping", admin, "", 400, "invalid_request"},
      {"SQL-looking queue filter", "GET", "/v1/tasks?queue=x%27%3B%20drop%20table%20tasks", admin,
       "", 400, "invalid_request"},
      {"bad limit", "GET", "/v1/tasks?limit=0", admin, "", 400, "invalid_request"},
      {"bad disagreement status", "GET", "/v1/disagreements?status=maybe", admin, "", 400,
       "invalid_request"},
      {"heartbeat on unknown task", "POST", "/v1/tasks/987654/heartbeat", f.worker1,
       R"({"token": 1})", 404, "not_found"},
      {"heartbeat without token", "POST", "/v1/tasks/" + sid + "/heartbeat", f.worker1, "{}", 400,
       "invalid_request"},
      {"token as string", "POST", "/v1/tasks/" + sid + "/heartbeat", f.worker1,
       "{\"token\": \"" + std::to_string(token) + "\"}", 400, "invalid_request"},
      {"submit to another branch", "POST", "/v1/tasks/" + sid + "/submit", f.worker1,
       json{{"token", token}, {"branch", "main"}, {"commit", std::string(40, 'a')},
            {"summary", "x"}}.dump(),
       400, "invalid_request"},
      {"submit a short commit", "POST", "/v1/tasks/" + sid + "/submit", f.worker1,
       json{{"token", token}, {"branch", claim_branch(id, token)}, {"commit", "abc"},
            {"summary", "x"}}.dump(),
       400, "invalid_request"},
      {"review with a bad verdict", "POST", "/v1/tasks/" + sid + "/review", f.reviewer1,
       R"({"token": 1, "verdict": "maybe", "reasons": ""})", 400, "invalid_request"},
      {"claim with wait_s too long", "POST", "/v1/claims", f.worker1, R"({"wait_s": 61})", 400,
       "invalid_request"},
      {"claim with lease too short", "POST", "/v1/claims", f.worker1, R"({"lease_s": 1})", 400,
       "invalid_request"},
      {"agent with a bad role", "POST", "/v1/agents", admin, R"({"name": "x", "role": "king"})",
       400, "invalid_request"},
      {"agent named admin", "POST", "/v1/agents", admin, R"({"name": "admin", "role": "admin"})",
       400, "invalid_request", "reserved"},
      {"agent named reaper", "POST", "/v1/agents", admin,
       R"({"name": "reaper", "role": "worker"})", 400, "invalid_request", "reserved"},
      {"agent named merger", "POST", "/v1/agents", admin,
       R"({"name": "merger", "role": "reviewer"})", 400, "invalid_request", "reserved"},
      {"duplicate agent", "POST", "/v1/agents", admin, R"({"name": "worker-1", "role": "worker"})",
       409, "duplicate"},
      {"duplicate repo", "POST", "/v1/repos", admin,
       R"({"name": "demo", "url": "/tmp/x.git", "base_branch": "main"})", 409, "duplicate"},
      {"repo URL like an option", "POST", "/v1/repos", admin,
       R"({"name": "evil", "url": "--upload-pack=sh", "base_branch": "main"})", 400,
       "invalid_request"},
      {"revoke an unknown agent", "DELETE", "/v1/agents/nobody", admin, "", 404, "not_found"},
      {"revoke a bad name", "DELETE", "/v1/agents/a%20b", admin, "", 400, "invalid_request"},
      {"resolve unknown disagreement", "POST", "/v1/disagreements/55/resolve", admin,
       R"({"decision": "worker_right", "note": "x"})", 404, "not_found"},
      {"resolve with a bad decision", "POST", "/v1/disagreements/55/resolve", admin,
       R"({"decision": "nobody", "note": "x"})", 400, "invalid_request"},
      {"cancel a cancelled-never task twice", "POST", "/v1/tasks/987654/cancel", admin, "", 404,
       "not_found"},
      {"requeue a working task", "POST", "/v1/tasks/" + sid + "/requeue", admin, "", 409,
       "invalid_state"},
  };
  for (const auto& row : table) {
    SECTION(row.name) {
      auto before = f.fingerprint();
      auto result = f.raw(row.method, row.target, row.token, row.body);
      INFO(row.name << ": " << result.reply.body);
      CHECK(result.reply.status == row.status);
      CHECK(code_of(result) == row.code);
      if (!row.names.empty()) CHECK(result.reply.body.find(row.names) != std::string::npos);
      CHECK(f.fingerprint() == before);
    }
  }
  SECTION("a transport that stopped reading an oversize body") {
    auto before = f.fingerprint();
    http_request request{"POST", "/v1/tasks", "Bearer " + admin, "", true};
    auto result = f.handler.handle(request, f.queue);
    CHECK(result.reply.status == 413);
    CHECK(f.fingerprint() == before);
  }
}

TEST_CASE("handler: every route checks the caller's role and changes nothing when refused",
          "[handler][roles]") {
  handler_fixture f;
  auto id = f.add_task();
  const std::string sid = std::to_string(id);
  struct forbidden_call {
    std::string method, target, who;
    json body;
  };
  const std::vector<forbidden_call> table = {
      {"POST", "/v1/tasks", "worker", {{"title", "t"}, {"body", ""}, {"repo", "demo"}}},
      {"POST", "/v1/tasks", "reviewer", {{"title", "t"}, {"body", ""}, {"repo", "demo"}}},
      {"POST", "/v1/claims", "admin", json::object()},
      {"POST", "/v1/tasks/" + sid + "/heartbeat", "admin", {{"token", 1}}},
      {"POST", "/v1/tasks/" + sid + "/submit", "reviewer", submit_body(id, 1)},
      {"POST", "/v1/tasks/" + sid + "/review", "worker",
       {{"token", 1}, {"verdict", "approve"}, {"reasons", ""}}},
      {"POST", "/v1/tasks/" + sid + "/release", "admin",
       {{"token", 1}, {"reason", "x"}, {"retry", true}}},
      {"POST", "/v1/tasks/" + sid + "/cancel", "worker", json::object()},
      {"POST", "/v1/tasks/" + sid + "/requeue", "reviewer", json::object()},
      {"POST", "/v1/repos", "worker", {{"name", "r2"}, {"url", "/tmp/r2.git"}}},
      {"GET", "/v1/repos", "reviewer", nullptr},
      {"POST", "/v1/agents", "worker", {{"name", "x"}, {"role", "admin"}}},
      {"GET", "/v1/agents", "worker", nullptr},
      {"DELETE", "/v1/agents/worker-2", "reviewer", nullptr},
      {"POST", "/v1/disagreements/1/resolve", "worker",
       {{"decision", "worker_right"}, {"note", "me"}}},
  };
  for (const auto& row : table) {
    SECTION(row.method + " " + row.target + " as " + row.who) {
      const std::string& token = row.who == "worker"     ? f.worker1
                                 : row.who == "reviewer" ? f.reviewer1
                                                         : handler_admin_token;
      auto before = f.fingerprint();
      auto result = f.call(row.method, row.target, token, row.body);
      INFO(result.reply.body);
      CHECK(result.reply.status == 403);
      CHECK(code_of(result) == "forbidden");
      CHECK(f.fingerprint() == before);
    }
  }
}

TEST_CASE("handler: stale tokens after expiry and after release and another agent's token",
          "[handler][fencing]") {
  handler_fixture f;
  auto id = f.add_task();
  auto first = f.claim(f.worker1, {{"lease_s", 30}});
  const auto old_token = first["claim"]["token"].get<std::int64_t>();

  SECTION("a holder's token used by another agent is forbidden") {
    auto before = f.fingerprint();
    auto stolen = f.call("POST", task_path(id, "heartbeat"), f.worker2, {{"token", old_token}});
    CHECK(stolen.reply.status == 403);
    CHECK(code_of(stolen) == "forbidden");
    auto stolen_submit =
        f.call("POST", task_path(id, "submit"), f.worker2, submit_body(id, old_token));
    CHECK(stolen_submit.reply.status == 403);
    CHECK(f.fingerprint() == before);
  }

  SECTION("an expired lease nobody took over: lease_expired") {
    f.queue.set_clock(at(31));
    auto before = f.fingerprint();
    auto late = f.call("POST", task_path(id, "heartbeat"), f.worker1, {{"token", old_token}});
    CHECK(late.reply.status == 409);
    CHECK(code_of(late) == "lease_expired");
    CHECK(f.fingerprint() == before);
    CHECK(f.metrics.lease_expired_refusals() == 1);
    CHECK(f.metrics.stale_token_refusals() == 0);
  }

  SECTION("after expiry and a new claim: stale_token everywhere") {
    f.queue.set_clock(at(31));
    auto second = f.claim(f.worker2, {{"lease_s", 30}});
    CHECK(second["claim"]["token"].get<std::int64_t>() > old_token);
    auto before = f.fingerprint();
    for (const auto& [verb, body] :
         std::vector<std::pair<std::string, json>>{
             {"heartbeat", {{"token", old_token}}},
             {"submit", submit_body(id, old_token)},
             {"release", {{"token", old_token}, {"reason", "late"}, {"retry", true}}}}) {
      auto late = f.call("POST", task_path(id, verb), f.worker1, body);
      INFO(verb << ": " << late.reply.body);
      CHECK(late.reply.status == 409);
      CHECK(code_of(late) == "stale_token");
    }
    CHECK(f.fingerprint() == before);
    CHECK(f.metrics.stale_token_refusals() == 3);
  }

  SECTION("after a release the token is stale") {
    REQUIRE(f.call("POST", task_path(id, "release"), f.worker1,
                   {{"token", old_token}, {"reason", "stop"}, {"retry", true}})
                .reply.status == 200);
    auto before = f.fingerprint();
    auto late = f.call("POST", task_path(id, "submit"), f.worker1, submit_body(id, old_token));
    CHECK(late.reply.status == 409);
    CHECK(code_of(late) == "stale_token");
    // The same release again is a retry of a call that landed: the same
    // success, nothing written (docs/api.md, "Retries").
    auto again = f.call("POST", task_path(id, "release"), f.worker1,
                        {{"token", old_token}, {"reason", "stop"}, {"retry", true}});
    CHECK(again.reply.status == 200);
    CHECK(f.fingerprint() == before);
  }

  SECTION("a stale reviewer cannot review") {
    REQUIRE(f.call("POST", task_path(id, "submit"), f.worker1, submit_body(id, old_token))
                .reply.status == 200);
    auto review = f.claim(f.reviewer1, {{"lease_s", 30}});
    const auto review_token = review["claim"]["token"].get<std::int64_t>();
    f.queue.set_clock(at(100));
    f.claim(f.reviewer2, {{"lease_s", 30}});  // takes the expired review over
    auto before = f.fingerprint();
    for (const char* verdict : {"approve", "reject"}) {
      auto late = f.call("POST", task_path(id, "review"), f.reviewer1,
                         {{"token", review_token}, {"verdict", verdict}, {"reasons", "late"}});
      CHECK(late.reply.status == 409);
      CHECK(code_of(late) == "stale_token");
    }
    CHECK(f.fingerprint() == before);
  }
}
