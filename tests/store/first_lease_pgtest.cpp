// The short first lease (issue 14, docs/api.md "Claims"): a claim runs out
// after first_lease_s until its first heartbeat makes it the whole lease, so
// a claim nobody acts on (a runner that stalled right after its long-poll
// was answered) comes back in seconds instead of after a whole lease.
#include <catch2/catch.hpp>

#include "support/queue_fixture.hpp"

using namespace agentq;
using namespace agentq::testing;

TEST_CASE("a claim nobody heartbeats comes back after the first lease", "[lease][first_lease]") {
  queue_fixture f;
  auto id = f.add();
  auto grants = f.queue.claim(f.worker1, {}, 60, 1, 10);
  REQUIRE(grants.size() == 1);
  CHECK(grants[0].answer["claim"]["lease_s"] == 60);
  CHECK(grants[0].answer["claim"]["first_lease_s"] == 10);
  CHECK(grants[0].answer["claim"]["lease_expires_at"] == at(10));

  f.queue.set_clock(at(9));
  CHECK(f.queue.claim(f.worker2, {}, 60, 1, 10).empty());  // still held
  f.queue.set_clock(at(11));
  auto taken = f.queue.claim(f.worker2, {}, 60, 1, 10);
  REQUIRE(taken.size() == 1);
  CHECK(taken[0].task_id == id);
  CHECK(taken[0].token > grants[0].token);
  // The stalled holder is refused when it comes back.
  auto late = f.queue.heartbeat(id, {grants[0].token, std::nullopt}, f.worker1);
  REQUIRE_FALSE(late);
  CHECK(late.error().code == error_code::stale_token);
}

TEST_CASE("the first heartbeat makes the first lease the whole lease", "[lease][first_lease]") {
  queue_fixture f;
  auto id = f.add();
  auto grant = f.queue.claim(f.worker1, {}, 60, 1, 10).at(0);
  f.queue.set_clock(at(2));
  auto beat = f.queue.heartbeat(id, {grant.token, std::nullopt}, f.worker1);
  REQUIRE(beat);
  CHECK(*beat == at(62));
  f.queue.set_clock(at(30));  // past the first lease, within the whole one
  CHECK(f.queue.claim(f.worker2, {}, 60, 1, 10).empty());
  CHECK(f.state(id) == "working");
}

TEST_CASE("a first lease of 0 or one not shorter than the lease changes nothing",
          "[lease][first_lease]") {
  queue_fixture f;
  for (int first : {0, 60, 600}) {
    INFO("first_lease_s " << first);
    f.add();
    auto grant = f.queue.claim(f.worker1, {}, 60, 1, first).at(0);
    CHECK(grant.answer["claim"]["first_lease_s"] == 60);
    CHECK(grant.answer["claim"]["lease_expires_at"] == at(60));
  }
}
