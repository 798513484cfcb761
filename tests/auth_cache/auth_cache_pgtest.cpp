// The auth cache in the request handler against a real database (a clock
// the test moves: no sleeps), and in real `agentq serve` processes: two
// servers on one database, a revocation through one of them.
#include <chrono>
#include <string>
#include <thread>

#include <catch2/catch.hpp>
#include <pqxx/pqxx>

#include "core/secrets.hpp"
#include "handler_fixture.hpp"
#include "http/auth_cache.hpp"
#include "http_client.hpp"
#include "process.hpp"

using namespace agentq;
using namespace agentq::testing;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

// The fixture's database and agents, and a handler that authenticates
// through a cache whose clock the test moves.
struct cached_handler {
  handler_fixture fixture;
  auth_cache::clock::time_point now = auth_cache::clock::time_point(1000s);
  auth_cache cache{[] {
                     auth_cache_config config;
                     config.expiry = 5s;
                     return config;
                   }(),
                   [this] { return now; }};
  request_handler handler{[] {
                            handler_config config;
                            config.admin_token = handler_admin_token;
                            return config;
                          }(),
                          [this] {
                            handler_services services;
                            services.auth = &cache;
                            return services;
                          }()};

  int status(const std::string& method, const std::string& target, const std::string& token,
             const json& body = nullptr) {
    http_request request;
    request.method = method;
    request.target = target;
    request.authorization = "Bearer " + token;
    if (!body.is_null()) request.body = body.dump();
    return handler.handle(request, fixture.queue).reply.status;
  }
  // SQL as another server (or a person at psql) would run it: the cache of
  // this one is not told.
  void sql(const std::string& statement) {
    pqxx::work tx(fixture.sql);
    tx.exec0(statement);
    tx.commit();
  }
};

}  // namespace

TEST_CASE("a token revoked elsewhere works on until the cache's expiry, then is refused",
          "[auth-cache]") {
  cached_handler h;
  REQUIRE(h.status("GET", "/v1/whoami", h.fixture.worker1) == 200);  // verified, remembered
  h.sql("update agents set revoked_at = now() where name = 'worker-1'");
  h.now += 4s;
  CHECK(h.status("GET", "/v1/whoami", h.fixture.worker1) == 200);  // within the expiry
  h.now += 1s;
  CHECK(h.status("GET", "/v1/whoami", h.fixture.worker1) == 401);  // asked the database again
  CHECK(h.status("GET", "/v1/whoami", h.fixture.worker2) == 200);
}

TEST_CASE("a token revoked through this server is refused at once", "[auth-cache]") {
  cached_handler h;
  REQUIRE(h.status("GET", "/v1/whoami", h.fixture.worker1) == 200);
  REQUIRE(h.cache.size() == 1);
  CHECK(h.status("DELETE", "/v1/agents/worker-1", handler_admin_token) == 200);
  CHECK(h.status("GET", "/v1/whoami", h.fixture.worker1) == 401);
  CHECK(h.status("POST", "/v1/claims", h.fixture.worker1, json::object()) == 401);
}

TEST_CASE("a refresh finds a token revoked elsewhere before its expiry", "[auth-cache]") {
  cached_handler h;
  REQUIRE(h.status("GET", "/v1/whoami", h.fixture.worker1) == 200);
  REQUIRE(h.status("GET", "/v1/whoami", h.fixture.worker2) == 200);
  h.sql("update agents set revoked_at = now() where name = 'worker-1'");
  h.now += 2s;
  auto due = h.cache.refresh_due();
  REQUIRE(due.token_hashes.size() == 2);
  h.cache.refreshed(due, h.fixture.queue.live_agents_by_token_hash(due.token_hashes));
  CHECK(h.status("GET", "/v1/whoami", h.fixture.worker1) == 401);
  CHECK(h.status("GET", "/v1/whoami", h.fixture.worker2) == 200);
}

TEST_CASE("roles are checked on every call: a cached token passes only its own role's routes, "
          "and a role changed in the database is not passed on the old one",
          "[auth-cache]") {
  cached_handler h;
  const auto task = h.fixture.add_task();
  const auto review = "/v1/tasks/" + std::to_string(task) + "/review";
  const json verdict = {{"token", 1}, {"verdict", "approve"}, {"reasons", "ok"}};
  REQUIRE(h.status("GET", "/v1/whoami", h.fixture.worker1) == 200);  // cached as a worker
  CHECK(h.status("POST", review, h.fixture.worker1, verdict) == 403);  // not a reviewer
  CHECK(h.status("GET", "/v1/agents", h.fixture.worker1) == 403);     // not an admin

  // worker-1 becomes a reviewer by SQL; after the refresh (or the expiry)
  // the cache holds the database's role, and the worker routes refuse it.
  h.sql("update agents set role = 'reviewer' where name = 'worker-1'");
  h.now += 2s;
  auto due = h.cache.refresh_due();
  h.cache.refreshed(due, h.fixture.queue.live_agents_by_token_hash(due.token_hashes));
  CHECK(h.status("POST", "/v1/claims", h.fixture.worker1, json::object()) != 403);
  CHECK(h.status("POST", "/v1/tasks/" + std::to_string(task) + "/submit", h.fixture.worker1,
                 {{"token", 1}, {"branch", "b"}, {"commit", std::string(40, 'a')},
                  {"summary", "s"}}) == 403);

  // Back to worker, and no refresh: after the expiry the database is asked.
  h.sql("update agents set role = 'worker' where name = 'worker-1'");
  h.now += 5s;
  CHECK(h.status("POST", review, h.fixture.worker1, verdict) == 403);
}

TEST_CASE("live_agents_by_token_hash answers the live agents among many hashes in one call",
          "[auth-cache]") {
  handler_fixture f;
  pqxx::work tx(f.sql);
  tx.exec0("update agents set revoked_at = now() where name = 'worker-2'");
  tx.commit();
  const auto live = f.queue.live_agents_by_token_hash(
      {sha256_hex(f.worker1), sha256_hex(f.worker2), sha256_hex(f.reviewer1),
       sha256_hex("aq_nobody")});
  REQUIRE(live.size() == 2);
  CHECK(live.at(sha256_hex(f.worker1)).name == "worker-1");
  CHECK(live.at(sha256_hex(f.reviewer1)).role == agent_role::reviewer);
  CHECK(f.queue.live_agents_by_token_hash({}).empty());
}

TEST_CASE("two servers: a revocation through one is refused there at once and on the other "
          "within its --auth-cache-s",
          "[auth-cache][server]") {
  test_database db;
  server_process a(db.url(), {"--auth-cache-s", "1"});
  server_process b(db.url(), {"--auth-cache-s", "1"});
  const auto token = make_agent(a.url(), "w-1", "worker");
  http_client on_a(a.url(), token), on_b(b.url(), token);
  REQUIRE(on_a.request("GET", "/v1/whoami").status == 200);  // cached on both
  REQUIRE(on_b.request("GET", "/v1/whoami").status == 200);

  http_client admin(a.url(), admin_token);
  REQUIRE(admin.request("DELETE", "/v1/agents/w-1").status == 200);
  CHECK(on_a.request("GET", "/v1/whoami").status == 401);
  // On b: refused once its cache's belief runs out (1 s; the bound here is
  // generous for a loaded machine and says nothing about speed).
  int status = 200;
  for (int i = 0; i < 300 && status == 200; ++i) {
    status = on_b.request("GET", "/v1/whoami").status;
    if (status == 200) std::this_thread::sleep_for(100ms);
  }
  CHECK(status == 401);
}

TEST_CASE("agentq serve --auth-cache-s refuses a value out of range", "[auth-cache][server]") {
  auto run = run_agentq({"serve", "--auth-cache-s", "301"});
  CHECK(run.exit_code != 0);
  CHECK(run.err.find("--auth-cache-s must be 0..300") != std::string::npos);
}
