#include <catch2/catch.hpp>

#include "core/task_state.hpp"

using agentq::task_state;
using s = agentq::task_state;

TEST_CASE("every state has a name that parses back", "[state]") {
  for (auto state : {s::queued, s::working, s::awaiting_review, s::reviewing, s::done, s::failed,
                     s::cancelled, s::needs_human}) {
    CHECK(agentq::parse_task_state(agentq::to_string(state)) == state);
  }
  CHECK_FALSE(agentq::parse_task_state("Queued"));
  CHECK_FALSE(agentq::parse_task_state(""));
  CHECK_FALSE(agentq::parse_task_state("queued; drop table tasks"));
}

TEST_CASE("final and held states", "[state]") {
  CHECK(agentq::is_final(s::done));
  CHECK(agentq::is_final(s::failed));
  CHECK(agentq::is_final(s::cancelled));
  CHECK_FALSE(agentq::is_final(s::needs_human));
  CHECK_FALSE(agentq::is_final(s::queued));
  CHECK(agentq::is_held(s::working));
  CHECK(agentq::is_held(s::reviewing));
  CHECK_FALSE(agentq::is_held(s::awaiting_review));
}

TEST_CASE("the transition table is the contract's diagram", "[state]") {
  struct row {
    task_state from, to;
    bool allowed;
  };
  const row table[] = {
      {s::queued, s::working, true},           {s::queued, s::awaiting_review, false},
      {s::queued, s::done, false},             {s::queued, s::cancelled, true},
      {s::working, s::awaiting_review, true},  {s::working, s::queued, true},
      {s::working, s::failed, true},           {s::working, s::done, false},
      {s::working, s::reviewing, false},       {s::awaiting_review, s::reviewing, true},
      {s::awaiting_review, s::done, false},    {s::awaiting_review, s::cancelled, true},
      {s::reviewing, s::done, true},           {s::reviewing, s::queued, true},
      {s::reviewing, s::needs_human, true},    {s::reviewing, s::awaiting_review, true},
      {s::reviewing, s::failed, false},        {s::needs_human, s::queued, true},
      {s::needs_human, s::done, true},         {s::needs_human, s::cancelled, true},
      {s::done, s::queued, false},             {s::done, s::cancelled, false},
      {s::failed, s::queued, true},            {s::failed, s::cancelled, false},
      {s::cancelled, s::queued, true},         {s::cancelled, s::cancelled, false},
  };
  for (const auto& r : table) {
    INFO(agentq::to_string(r.from) << " -> " << agentq::to_string(r.to));
    CHECK(agentq::is_transition(r.from, r.to) == r.allowed);
  }
}

TEST_CASE("roles parse", "[state]") {
  CHECK(agentq::parse_agent_role("worker") == agentq::agent_role::worker);
  CHECK(agentq::parse_agent_role("reviewer") == agentq::agent_role::reviewer);
  CHECK(agentq::parse_agent_role("admin") == agentq::agent_role::admin);
  CHECK_FALSE(agentq::parse_agent_role("root"));
}
