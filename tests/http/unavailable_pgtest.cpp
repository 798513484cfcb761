// A database that is not there: the store throws database_unavailable, the
// server's db_slot passes it on (and fails fast for a moment after), and the
// handler answers 503 with Retry-After and drops the connection.
#include <chrono>
#include <cstdlib>
#include <string>
#include <tuple>

#include <unistd.h>

#include <catch2/catch.hpp>

#include "handler_fixture.hpp"
#include "http/db_pool.hpp"

using namespace agentq;
using namespace agentq::testing;

namespace {

bool has_retry_after(const http_reply& reply) {
  for (const auto& [name, value] : reply.headers)
    if (name == "Retry-After" && !value.empty()) return true;
  return false;
}

}  // namespace

TEST_CASE("handler: a store on an unreachable database answers 503 through database_unavailable",
          "[handler][unavailable]") {
  setenv("PGCONNECT_TIMEOUT", "2", 1);
  handler_fixture f;
  const std::string url = unreachable_database_url();  // db_slot keeps a reference
  db_slot slot(url, std::chrono::seconds(60));
  CHECK_THROWS_AS(slot.get(), database_unavailable);
  // Within the reconnect pause the slot does not try again: it fails at once.
  const auto asked = std::chrono::steady_clock::now();
  CHECK_THROWS_AS(slot.get(), database_unavailable);
  CHECK(std::chrono::steady_clock::now() - asked < std::chrono::seconds(1));

  auto get_store = [&]() -> store& { return slot.get(); };
  for (const auto& [method, target, token] :
       {std::tuple<std::string, std::string, std::string>{"GET", "/v1/tasks", f.worker1},
        {"POST", "/v1/claims", f.worker1},
        {"GET", "/readyz", ""}}) {
    INFO(method << " " << target);
    http_request request{method, target, token.empty() ? "" : "Bearer " + token, "", false};
    auto answer = f.handler.handle(request, get_store);
    CHECK(answer.reply.status == 503);
    CHECK(answer.database_failed);
    CHECK(has_retry_after(answer.reply));
    CHECK(answer.reply.body.find("unavailable") != std::string::npos);
  }
  // /metrics still answers this server's own numbers.
  http_request metrics{"GET", "/metrics", "", "", false};
  auto numbers = f.handler.handle(metrics, get_store);
  CHECK(numbers.reply.status == 200);
  CHECK(numbers.database_failed);
}
