#pragma once
// A fresh database with one repository, two workers and two reviewers, and a
// store whose clock the test moves (T0 is pinned; at(s) is T0 + s seconds).

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>
#include <pqxx/connection>

#include "store/store.hpp"
#include "support/test_database.hpp"

namespace agentq::testing {

// "2030-01-01T00:00:00Z" plus the given seconds, RFC 3339.
std::string at(double seconds);

struct queue_fixture {
  queue_fixture();

  test_database db;
  store queue{db.url()};
  // The test's own SQL (tests may; the server's code may not): a connection
  // of its own, apart from the store's.
  pqxx::connection sql{db.url()};
  agent_identity worker1, worker2, reviewer1, reviewer2;

  // A task with the given overrides of new_task's defaults, added at the
  // current clock; answers its id.
  std::int64_t add(const nlohmann::json& fields = {});
  // n queued tasks added in one statement (with their 'added' events), at
  // the pinned clock or, with no clock pinned, now.
  void add_many(int n, const std::optional<std::string>& now);
  // The one task a claim by `agent` gets, or fails the test.
  claim_grant claim_one(const agent_identity& agent, int lease_s = 60);
  // Everything the database holds about a task, to compare before and after
  // a refused call.
  nlohmann::json snapshot(std::int64_t task_id);
  std::string state(std::int64_t task_id);
  // Claim, submit, and claim as reviewer: answers the reviewer's grant.
  claim_grant to_review(std::int64_t task_id, const agent_identity& worker,
                        const agent_identity& reviewer);

  agent_identity make_agent(const std::string& name, agent_role role);
};

}  // namespace agentq::testing
