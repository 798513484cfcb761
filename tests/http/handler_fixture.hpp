#pragma once
// The pure request handler against a real, fresh database: no socket. The
// store's clock is pinned (T0 = at(0)) so tests move time instead of sleeping.

#include <string>

#include <nlohmann/json.hpp>
#include <pqxx/connection>

#include "http/handler.hpp"
#include "http/metrics.hpp"
#include "store/store.hpp"
#include "support/queue_fixture.hpp"
#include "support/test_database.hpp"

namespace agentq::testing {

inline const std::string handler_admin_token = "handler-admin-token-0123456789";

struct handler_fixture {
  handler_fixture();

  test_database db;
  store queue{db.url()};
  pqxx::connection sql{db.url()};  // the test's own SQL, apart from the store's
  server_metrics metrics;
  request_handler handler;
  // Bearer tokens of agents made through POST /v1/agents.
  std::string worker1, worker2, reviewer1, reviewer2, admin2;

  // One request; body: JSON (dumped) or, when a string, sent as is.
  handler_result call(const std::string& method, const std::string& target,
                      const std::string& token, const nlohmann::json& body = nullptr);
  handler_result raw(const std::string& method, const std::string& target,
                     const std::string& token, const std::string& body);
  // A task added through the API; answers its id.
  std::int64_t add_task(const nlohmann::json& fields = {});
  // A worker's claim answer (200 expected).
  nlohmann::json claim(const std::string& token, const nlohmann::json& body = {});
  // Everything the database holds, to compare before and after refusals.
  nlohmann::json fingerprint();
};

}  // namespace agentq::testing
