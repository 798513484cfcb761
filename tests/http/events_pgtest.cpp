// The event feed's long-poll (GET /v1/events?wait_s=) through a real
// `agentq serve`: it waits for the next event from anyone, answers an empty
// page when its wait runs out, and answers 204 when the server stops.
#include <catch2/catch.hpp>

#include <future>

#include "http_client.hpp"
#include "process.hpp"
#include "support/test_database.hpp"

using namespace agentq;
using namespace agentq::testing;
using nlohmann::json;

namespace {

// Until the server's /metrics counts one open long-poll; the poll must not
// have answered meanwhile (nothing happened that it could answer with).
void wait_until_parked(const std::string& url, std::future<http_response>& poll) {
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (metric(url, "agentq_open_long_polls") < 1) {
    REQUIRE(poll.wait_for(std::chrono::milliseconds(50)) == std::future_status::timeout);
    REQUIRE(std::chrono::steady_clock::now() < give_up);
  }
}

}  // namespace

TEST_CASE("events: a long-poll waits for the next event and gets it", "[events]") {
  test_database db;
  server_process server(db.url());
  http_client admin(server.url(), admin_token);
  REQUIRE(admin.request("POST", "/v1/repos", {{"name", "demo"}, {"url", "/tmp/none.git"}}).status ==
          201);
  const auto start = admin.request("GET", "/v1/events?after=0");
  REQUIRE(start.status == 200);
  const auto cursor = start.body["last_id"].get<std::int64_t>();

  // Nothing past the cursor for the poll's whole wait: an empty page.
  auto quiet = admin.request("GET", "/v1/events?after=" + std::to_string(cursor) + "&wait_s=1",
                             nullptr, std::chrono::seconds(30));
  REQUIRE(quiet.status == 200);
  CHECK(quiet.body["events"].empty());
  CHECK(quiet.body["last_id"] == cursor);

  // A poll that is waiting when a task is added answers with its event.
  auto waiting = std::async(std::launch::async, [&server, cursor] {
    http_client reader(server.url(), admin_token);
    return reader.request("GET", "/v1/events?after=" + std::to_string(cursor) + "&wait_s=60",
                          nullptr, std::chrono::seconds(90));
  });
  // Make the event once the poll is parked (the server counts it as an open
  // long-poll): what is asserted is what the poll answers, never how fast.
  wait_until_parked(server.url(), waiting);
  auto added = admin.request("POST", "/v1/tasks", {{"title", "t"}, {"body", "b"}, {"repo", "demo"}});
  REQUIRE(added.status == 201);
  auto news = waiting.get();
  REQUIRE(news.status == 200);
  REQUIRE(news.body["events"].size() == 1);
  CHECK(news.body["events"][0]["kind"] == "added");
  CHECK(news.body["events"][0]["task_id"] == added.body["task"]["id"]);
  CHECK(news.body["last_id"].get<std::int64_t>() > cursor);

  // A poll still waiting when the server stops is answered 204.
  const auto last = news.body["last_id"].get<std::int64_t>();
  auto at_shutdown = std::async(std::launch::async, [&server, last] {
    http_client reader(server.url(), admin_token);
    return reader.request("GET", "/v1/events?after=" + std::to_string(last) + "&wait_s=60",
                          nullptr, std::chrono::seconds(90));
  });
  wait_until_parked(server.url(), at_shutdown);
  CHECK(server.terminate() == 0);
  CHECK(at_shutdown.get().status == 204);
}
