// The route table: 404 against 405 (with Allow), HEAD, the fixed set of
// route labels, and that a refused method changes nothing.
#include <catch2/catch.hpp>

#include <set>

#include "handler_fixture.hpp"
#include "http/routes/route_table.hpp"

using namespace agentq;
using namespace agentq::testing;
using nlohmann::json;

namespace {

std::string header(const handler_result& r, const std::string& name) {
  for (const auto& [key, value] : r.reply.headers)
    if (key == name) return value;
  return "";
}

}  // namespace

TEST_CASE("routes: every route of the table is found by its own pattern", "[routes]") {
  std::set<std::string> seen;
  for (const auto& r : route_table()) {
    const std::string key = std::string(r.method) + " " + r.pattern;
    CHECK(seen.insert(key).second);  // no route twice
    std::string path = r.pattern;
    for (auto at = path.find('{'); at != std::string::npos; at = path.find('{'))
      path.replace(at, path.find('}', at) - at + 1, "7");
    auto match = match_route(r.method, path);
    REQUIRE(match.found == &r);
    CHECK(request_handler::route_of(r.method, path + "?x=1") == key);
  }
}

TEST_CASE("routes: wrong method gets 405 with Allow and an unknown path gets 404",
          "[routes][bad-input]") {
  handler_fixture f;
  const auto& admin = handler_admin_token;
  f.add_task();
  const auto before = f.fingerprint();
  struct row {
    const char* method;
    const char* target;
    int status;
    const char* allow;
  };
  const row rows[] = {
      {"PUT", "/v1/tasks", 405, "POST, GET, HEAD"},
      {"DELETE", "/v1/tasks/1", 405, "GET, HEAD"},
      {"GET", "/v1/tasks/1/submit", 405, "POST"},
      {"PATCH", "/v1/agents/someone", 405, "DELETE"},
      {"BREW", "/healthz", 405, "GET, HEAD"},
      {"POST", "/metrics", 405, "GET, HEAD"},
      {"GET", "/v1/nothing", 404, ""},
      {"GET", "/v1/tasks/1/frobnicate", 404, ""},
      {"GET", "/v1//tasks", 404, ""},
  };
  for (const auto& r : rows) {
    INFO(r.method << " " << r.target);
    auto result = f.call(r.method, r.target, admin);
    CHECK(result.reply.status == r.status);
    CHECK(header(result, "Allow") == r.allow);
    auto body = json::parse(result.reply.body);
    CHECK(body["error"]["code"] == (r.status == 405 ? "method_not_allowed" : "not_found"));
    CHECK(result.route == "other");
    CHECK_FALSE(request_handler::needs_database({r.method, r.target, "", "", false}));
  }
  CHECK(f.fingerprint() == before);
}

TEST_CASE("routes: HEAD runs the GET route and labels stay a fixed set", "[routes]") {
  handler_fixture f;
  auto head = f.call("HEAD", "/v1/tasks", f.worker1);
  CHECK(head.reply.status == 200);
  CHECK(head.route == "HEAD /v1/tasks");
  // Made-up methods and paths all share one label, so /metrics cannot grow
  // with what unauthenticated clients send.
  std::set<std::string> labels;
  for (int i = 0; i < 50; ++i) {
    labels.insert(request_handler::route_of("X" + std::to_string(i), "/v1/tasks"));
    labels.insert(request_handler::route_of("GET", "/made/up/" + std::to_string(i)));
  }
  CHECK(labels == std::set<std::string>{"other"});
}
