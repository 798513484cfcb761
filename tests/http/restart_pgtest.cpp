// The database goes away under a running server and comes back: calls answer
// 503 with Retry-After meanwhile (none hangs), /healthz stays up, and the
// server recovers by itself, long-poll wake-ups included. This stops the
// shared test PostgreSQL (AGENTQ_TEST_PG_CTL from scripts/test), so CTest
// runs it alone (RUN_SERIAL).
#include <catch2/catch.hpp>

#include <cstdlib>
#include <future>
#include <thread>

#include "http_client.hpp"
#include "process.hpp"
#include "support/test_database.hpp"

using namespace agentq;
using namespace agentq::testing;
using nlohmann::json;

namespace {

std::string pg_ctl() {
  const char* command = std::getenv("AGENTQ_TEST_PG_CTL");
  if (!command || !*command)
    FAIL("AGENTQ_TEST_PG_CTL is not set: run this through scripts/test, or set it to a shell "
         "command that controls the test PostgreSQL (it gets ' stop -m fast' or ' start' "
         "appended)");
  return command;
}

void run_pg_ctl(const std::string& action) {
  const std::string command = pg_ctl() + " " + action + " >/dev/null 2>&1";
  REQUIRE(std::system(command.c_str()) == 0);
}

// Restarts the database even when the test fails half-way, so later tests
// find it running.
struct database_stopped {
  database_stopped() { run_pg_ctl("stop -m fast"); }
  ~database_stopped() {
    if (!started) {
      const std::string command = pg_ctl() + " start >/dev/null 2>&1";
      (void)std::system(command.c_str());
    }
  }
  void start() {
    run_pg_ctl("start");
    started = true;
  }
  bool started = false;
};

bool has_retry_after(const http_response& r) { return r.headers.count("retry-after") > 0; }

}  // namespace

TEST_CASE("database restart: 503 with Retry-After while down - then recovery without a "
          "server restart",
          "[restart]") {
  const std::string control = pg_ctl();
  test_database db;
  server_process server(db.url());
  http_client admin(server.url(), admin_token);
  REQUIRE(admin.request("POST", "/v1/repos", {{"name", "demo"}, {"url", "/tmp/x.git"}}).status ==
          201);
  const auto worker_token = make_agent(server.url(), "w1", "worker");
  http_client worker(server.url(), worker_token);
  auto add = [&](const std::string& title) {
    return admin.request("POST", "/v1/tasks", {{"title", title}, {"body", ""}, {"repo", "demo"}});
  };
  REQUIRE(add("before").status == 201);
  REQUIRE(worker.request("POST", "/v1/claims", json::object()).status == 200);

  {
    database_stopped outage;
    // Every call that needs the database answers 503 promptly (the client's
    // timeout would throw otherwise); a few rounds so each pool connection
    // meets the outage.
    for (int i = 0; i < 8; ++i) {
      auto list = worker.request("GET", "/v1/tasks", nullptr, std::chrono::seconds(20));
      CHECK(list.status == 503);
      CHECK(list.error_code() == "unavailable");
      CHECK(has_retry_after(list));
      auto added = add("during");
      CHECK(added.status == 503);
    }
    auto claim = worker.request("POST", "/v1/claims", {{"wait_s", 1}}, std::chrono::seconds(20));
    CHECK(claim.status == 503);
    CHECK(admin.request("GET", "/healthz").status == 200);
    CHECK(admin.request("GET", "/readyz").status == 503);
    CHECK(admin.request("GET", "/metrics").raw_body.find("agentq_database_up 0") !=
          std::string::npos);
    outage.start();
  }

  // Recovery by itself: retry as a client would, bounded.
  int status = 0;
  for (int i = 0; i < 600 && status != 200; ++i) {
    status = worker.request("GET", "/v1/tasks", nullptr, std::chrono::seconds(20)).status;
    if (status != 200) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  INFO(server.log().substr(0, 6000));
  REQUIRE(status == 200);
  CHECK(admin.request("GET", "/readyz").status == 200);
  // nothing was added while the database was down
  auto listed = admin.request("GET", "/v1/tasks");
  REQUIRE(listed.body["tasks"].size() == 1);

  // a long-poll placed after the restart wakes for a new task
  auto waiting = std::async(std::launch::async, [&] {
    http_client client(server.url(), worker_token);
    return client.request("POST", "/v1/claims", {{"wait_s", 60}}, std::chrono::seconds(90));
  });
  for (int i = 0; i < 3000 && metric(server.url(), "agentq_open_long_polls") != 1; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  auto added = add("after");
  REQUIRE(added.status == 201);
  auto answer = waiting.get();
  REQUIRE(answer.status == 200);
  CHECK(answer.body["task"]["id"] == added.body["task"]["id"]);
}
