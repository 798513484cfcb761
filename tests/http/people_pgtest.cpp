// What people's views add to the API (issue 11): the agreement table, the
// event feed, amending a task's description with requeue, and the page
// itself with its Content-Security-Policy. The pure handler against a real
// database; each refusal checked to have changed nothing.
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

std::string header(const handler_result& r, const std::string& name) {
  for (const auto& [key, value] : r.reply.headers)
    if (key == name) return value;
  return "";
}

std::string task_path(std::int64_t id, const std::string& verb) {
  return "/v1/tasks/" + std::to_string(id) + "/" + verb;
}

// A worker claims the task and submits; a reviewer claims and judges it.
// Answers the review's answer.
json work_and_review(handler_fixture& f, std::int64_t id, const std::string& worker,
                     const std::string& reviewer, const std::string& verdict) {
  auto grant = f.claim(worker);
  REQUIRE(grant["task"]["id"] == id);
  const auto token = grant["claim"]["token"].get<std::int64_t>();
  auto submitted = f.call("POST", task_path(id, "submit"), worker,
                          {{"token", token},
                           {"branch", claim_branch(id, token)},
                           {"commit", std::string(40, 'a')},
                           {"summary", "did it"}});
  REQUIRE(submitted.reply.status == 200);
  auto review = f.claim(reviewer);
  REQUIRE(review["task"]["id"] == id);
  auto judged = f.call("POST", task_path(id, "review"), reviewer,
                       {{"token", review["claim"]["token"]}, {"verdict", verdict},
                        {"reasons", verdict == "reject" ? "no tests" : "fine"}});
  REQUIRE(judged.reply.status == 200);
  return body_of(judged);
}

json row_named(const json& rows, const std::string& name) {
  for (const auto& row : rows)
    if (row["name"] == name) return row;
  FAIL("no row " << name << " in " << rows.dump());
  return nullptr;
}

}  // namespace

TEST_CASE("people: the agreement table counts submissions, approvals and judged rejections",
          "[people]") {
  handler_fixture f;
  const auto& admin = handler_admin_token;
  // task a: worker-1 rejected by reviewer-1 (judged spec_unclear), then
  // worker-2 approved by reviewer-2 on the second try
  auto a = f.add_task({{"title", "a"}});
  auto rejected = work_and_review(f, a, f.worker1, f.reviewer1, "reject");
  REQUIRE(f.call("POST", "/v1/disagreements/" + std::to_string(rejected["disagreement_id"].get<int>()) +
                             "/resolve",
                 admin, {{"decision", "spec_unclear"}, {"note", "ambiguous"}})
              .reply.status == 200);
  work_and_review(f, a, f.worker2, f.reviewer2, "approve");
  // task b: worker-1 approved by reviewer-2 the first time
  auto b = f.add_task({{"title", "b"}});
  work_and_review(f, b, f.worker1, f.reviewer2, "approve");
  // task c: worker-2 rejected by reviewer-1, not judged yet
  auto c = f.add_task({{"title", "c"}});
  work_and_review(f, c, f.worker2, f.reviewer1, "reject");

  auto answer = f.call("GET", "/v1/agreement", f.reviewer1);  // any role reads it
  REQUIRE(answer.reply.status == 200);
  auto table = body_of(answer);
  INFO(table.dump(2));
  auto expect = [](const json& row, int submissions, int approved, int first, int rejected,
                   int reviewer_right, int worker_right, int spec_unclear, int open) {
    CHECK(row["submissions"] == submissions);
    CHECK(row["approved"] == approved);
    CHECK(row["approved_first_time"] == first);
    CHECK(row["rejected"] == rejected);
    CHECK(row["reviewer_right"] == reviewer_right);
    CHECK(row["worker_right"] == worker_right);
    CHECK(row["spec_unclear"] == spec_unclear);
    CHECK(row["open"] == open);
  };
  REQUIRE(table["workers"].size() == 2);
  expect(row_named(table["workers"], "worker-1"), 2, 1, 1, 1, 0, 0, 1, 0);
  expect(row_named(table["workers"], "worker-2"), 2, 1, 0, 1, 0, 0, 0, 1);
  REQUIRE(table["reviewers"].size() == 2);
  expect(row_named(table["reviewers"], "reviewer-1"), 2, 0, 0, 2, 0, 0, 1, 1);
  expect(row_named(table["reviewers"], "reviewer-2"), 2, 2, 1, 0, 0, 0, 0, 0);
  REQUIRE(table["repos"].size() == 1);
  expect(row_named(table["repos"], "demo"), 4, 2, 1, 2, 0, 0, 1, 1);

  CHECK(f.call("GET", "/v1/agreement", "").reply.status == 401);
  auto unknown = f.call("GET", "/v1/agreement?by=worker", admin);
  CHECK(unknown.reply.status == 400);
  CHECK(code_of(unknown) == "invalid_request");
}

TEST_CASE("people: amending a task keeps the old text in the history and can requeue it",
          "[people]") {
  handler_fixture f;
  const auto& admin = handler_admin_token;
  auto id = f.add_task({{"body", "make it faster"}, {"max_review_rounds", 1}});
  auto rejected = work_and_review(f, id, f.worker1, f.reviewer1, "reject");
  REQUIRE(rejected["state"] == "needs_human");

  auto amended = f.call("POST", task_path(id, "amend"), admin,
                        {{"body", "make GET /v1/tasks answer within 50 ms"},
                         {"note", "the spec said faster, not what"},
                         {"requeue", true}});
  REQUIRE(amended.reply.status == 200);
  CHECK(body_of(amended)["state"] == "queued");
  CHECK(body_of(amended)["task"]["body"] == "make GET /v1/tasks answer within 50 ms");

  auto shown = body_of(f.call("GET", "/v1/tasks/" + std::to_string(id), admin));
  CHECK(shown["task"]["state"] == "queued");
  CHECK(shown["task"]["body"] == "make GET /v1/tasks answer within 50 ms");
  const auto& events = shown["events"];
  REQUIRE(events.size() >= 2);
  const auto& amend_event = events[events.size() - 2];
  CHECK(amend_event["kind"] == "amended");
  CHECK(amend_event["detail"]["old_body"] == "make it faster");
  CHECK(amend_event["detail"]["note"] == "the spec said faster, not what");
  CHECK(amend_event["from_state"] == "needs_human");
  CHECK(amend_event["to_state"] == "needs_human");
  CHECK(events.back()["kind"] == "requeued");
  // the note reaches the next worker as feedback
  CHECK(shown["feedback"].back()["text"] == "the spec said faster, not what");

  // a queued task is amended in place (requeue has nothing to do)
  auto again = f.call("POST", task_path(id, "amend"), admin,
                      {{"body", "third text"}, {"requeue", true}});
  REQUIRE(again.reply.status == 200);
  CHECK(body_of(again)["state"] == "queued");
  CHECK(f.queue.check_invariants().empty());
}

TEST_CASE("people: amend refusals change nothing", "[people][bad-input]") {
  handler_fixture f;
  const auto& admin = handler_admin_token;
  auto id = f.add_task();
  auto held = f.add_task({{"priority", 5}});
  f.claim(f.worker1);  // takes `held`: it is working now
  const std::string sid = std::to_string(id);
  struct refused_call {
    std::string why, target, token;
    std::string body;
    int status;
    std::string code;
  };
  const std::vector<refused_call> table = {
      {"no body field", task_path(id, "amend"), admin, R"({"note":"x"})", 400,
       "invalid_request"},
      {"body not a string", task_path(id, "amend"), admin, R"({"body":5})", 400,
       "invalid_request"},
      {"requeue not a bool", task_path(id, "amend"), admin, R"({"body":"x","requeue":"yes"})",
       400, "invalid_request"},
      {"unknown field", task_path(id, "amend"), admin, R"({"body":"x","title":"t"})", 400,
       "invalid_request"},
      {"not JSON", task_path(id, "amend"), admin, "body=x", 400, "invalid_request"},
      {"bad id", "/v1/tasks/zero/amend", admin, R"({"body":"x"})", 400, "invalid_request"},
      {"no such task", "/v1/tasks/999/amend", admin, R"({"body":"x"})", 404, "not_found"},
      {"a held task", task_path(held, "amend"), admin, R"({"body":"x"})", 409,
       "invalid_state"},
      {"a worker", task_path(id, "amend"), f.worker1, R"({"body":"x"})", 403, "forbidden"},
      {"a reviewer", task_path(id, "amend"), f.reviewer1, R"({"body":"x"})", 403, "forbidden"},
      {"no token", task_path(id, "amend"), "", R"({"body":"x"})", 401, "unauthenticated"},
  };
  for (const auto& row : table) {
    SECTION(row.why) {
      auto before = f.fingerprint();
      auto result = f.raw("POST", row.target, row.token, row.body);
      INFO(result.reply.body);
      CHECK(result.reply.status == row.status);
      CHECK(code_of(result) == row.code);
      CHECK(f.fingerprint() == before);
    }
  }
}

TEST_CASE("people: the event feed answers the history after a cursor", "[people]") {
  handler_fixture f;
  auto first = f.add_task({{"title", "one"}});
  auto all = body_of(f.call("GET", "/v1/events?after=0", f.worker1));
  REQUIRE(all["events"].size() == 1);
  CHECK(all["events"][0]["task_id"] == first);
  CHECK(all["events"][0]["kind"] == "added");
  const auto cursor = all["last_id"].get<std::int64_t>();
  CHECK(all["events"][0]["id"] == cursor);

  auto nothing = body_of(f.call("GET", "/v1/events?after=" + std::to_string(cursor), f.worker1));
  CHECK(nothing["events"].empty());
  CHECK(nothing["last_id"] == cursor);

  auto second = f.add_task({{"title", "two"}});
  f.claim(f.worker1);
  auto news = body_of(f.call("GET", "/v1/events?after=" + std::to_string(cursor), f.reviewer1));
  REQUIRE(news["events"].size() == 2);
  CHECK(news["events"][0]["task_id"] == second);
  CHECK(news["events"][1]["kind"] == "claimed");
  CHECK(news["events"][0]["id"].get<std::int64_t>() < news["events"][1]["id"].get<std::int64_t>());
  auto one = body_of(f.call("GET", "/v1/events?after=0&limit=1", f.reviewer1));
  CHECK(one["events"].size() == 1);

  // a long-poll with nothing new is parked for the server to answer; with
  // news it answers at once
  const auto newest = news["events"][1]["id"].get<std::int64_t>();
  auto parked = f.call("GET", "/v1/events?after=" + std::to_string(newest) + "&wait_s=20&limit=7",
                       f.worker1);
  REQUIRE(parked.wait_for_events.has_value());
  CHECK(parked.wait_for_events->after == newest);
  CHECK(parked.wait_for_events->wait_s == 20);
  CHECK(parked.wait_for_events->limit == 7);
  auto at_once = f.call("GET", "/v1/events?after=" + std::to_string(cursor) + "&wait_s=20",
                        f.worker1);
  CHECK_FALSE(at_once.wait_for_events.has_value());
  CHECK(body_of(at_once)["events"].size() == 2);

  for (const char* bad : {"/v1/events?after=-1", "/v1/events?after=x", "/v1/events?limit=0",
                          "/v1/events?limit=1001", "/v1/events?wait=5", "/v1/events?wait_s=61",
                          "/v1/events?wait_s=-1", "/v1/events?wait_s=soon"}) {
    auto refused = f.call("GET", bad, f.worker1);
    INFO(bad);
    CHECK(refused.reply.status == 400);
    CHECK(code_of(refused) == "invalid_request");
  }
  CHECK(f.call("GET", "/v1/events", "").reply.status == 401);
}

TEST_CASE("people: the page is served without a token under a strict policy", "[people][web]") {
  handler_fixture f;
  auto page = f.call("GET", "/", "");
  REQUIRE(page.reply.status == 200);
  CHECK(page.reply.content_type == "text/html; charset=utf-8");
  CHECK(page.reply.body.find("<script src=\"/web/app.js\"") != std::string::npos);
  const auto policy = header(page, "Content-Security-Policy");
  CHECK(policy.find("default-src 'self'") != std::string::npos);
  CHECK(policy.find("script-src 'self';") != std::string::npos);
  CHECK(policy.find("unsafe-inline") == std::string::npos);
  CHECK(header(page, "X-Content-Type-Options") == "nosniff");

  auto script = f.call("GET", "/web/app.js", "");
  REQUIRE(script.reply.status == 200);
  CHECK(script.reply.content_type == "text/javascript; charset=utf-8");
  CHECK(header(script, "X-Content-Type-Options") == "nosniff");
  CHECK(f.call("GET", "/web/style.css", "").reply.content_type == "text/css; charset=utf-8");
  CHECK(f.call("GET", "/web/nothing.js", "").reply.status == 404);
  CHECK(f.call("GET", "/web/index.html", "").reply.status == 404);
  CHECK(f.call("HEAD", "/", "").reply.status == 200);
  CHECK(f.call("POST", "/", "").reply.status == 405);
}
