// Leases and fencing: a token that is not the task's live claim is refused
// and changes nothing (docs/api.md §4.1–4.3).
#include <catch2/catch.hpp>

#include "support/queue_fixture.hpp"

using namespace agentq;
using namespace agentq::testing;
using nlohmann::json;

namespace {

submit_request submit_for(std::int64_t task, std::int64_t token) {
  return submit_request{token, claim_branch(task, token), std::string(40, 'b'), "late work"};
}

}  // namespace

TEST_CASE("a lease that expires mid-work: the next claim gets a higher token and the old "
          "token is refused everywhere",
          "[lease]") {
  queue_fixture f;
  auto id = f.add();
  auto first = f.claim_one(f.worker1, 30);

  f.queue.set_clock(at(31));  // the lease ran out while worker-1 was working
  auto second = f.claim_one(f.worker2, 30);
  REQUIRE(second.task_id == id);
  CHECK(second.token > first.token);
  CHECK(second.answer["task"]["attempt"] == 2);

  auto before = f.snapshot(id);
  auto hb = f.queue.heartbeat(id, heartbeat_request{first.token, "still here"}, f.worker1);
  REQUIRE_FALSE(hb);
  CHECK(hb.error().code == error_code::stale_token);
  auto sub = f.queue.submit(id, submit_for(id, first.token), f.worker1);
  REQUIRE_FALSE(sub);
  CHECK(sub.error().code == error_code::stale_token);
  auto rel = f.queue.release(id, release_request{first.token, "giving up", true}, f.worker1, {});
  REQUIRE_FALSE(rel);
  CHECK(rel.error().code == error_code::stale_token);
  auto rej = f.queue.reject(id, review_request{first.token, verdict::reject, "no"}, f.reviewer1);
  REQUIRE_FALSE(rej);
  CHECK(rej.error().code == error_code::stale_token);
  auto app = f.queue.approve(id, review_request{first.token, verdict::approve, ""}, f.reviewer1);
  REQUIRE_FALSE(app);
  CHECK(app.error().code == error_code::stale_token);
  CHECK(f.snapshot(id) == before);

  // The old claim is recorded as expired, the new one is live.
  auto task = f.queue.get_task(id);
  REQUIRE(task);
  const json& claims = (*task)["claims"];
  REQUIRE(claims.size() == 2);
  CHECK(claims[0]["outcome"] == "expired");
  CHECK(claims[1]["outcome"].is_null());
  // The new holder carries on.
  CHECK(f.queue.submit(id, submit_for(id, second.token), f.worker2));
}

TEST_CASE("an expired lease nobody took over yet answers lease_expired and changes nothing",
          "[lease]") {
  queue_fixture f;
  auto id = f.add();
  auto grant = f.claim_one(f.worker1, 30);
  f.queue.set_clock(at(30));  // exactly at expiry: expired
  auto before = f.snapshot(id);
  auto hb = f.queue.heartbeat(id, heartbeat_request{grant.token, std::nullopt}, f.worker1);
  REQUIRE_FALSE(hb);
  CHECK(hb.error().code == error_code::lease_expired);
  auto sub = f.queue.submit(id, submit_for(id, grant.token), f.worker1);
  REQUIRE_FALSE(sub);
  CHECK(sub.error().code == error_code::lease_expired);
  auto rel = f.queue.release(id, release_request{grant.token, "", true}, f.worker1, {});
  REQUIRE_FALSE(rel);
  CHECK(rel.error().code == error_code::lease_expired);
  CHECK(f.snapshot(id) == before);
}

TEST_CASE("heartbeats extend the lease by the claim's lease_s and keep progress", "[lease]") {
  queue_fixture f;
  auto id = f.add();
  auto grant = f.claim_one(f.worker1, 30);
  f.queue.set_clock(at(20));
  auto hb = f.queue.heartbeat(id, heartbeat_request{grant.token, "compiling"}, f.worker1);
  REQUIRE(hb);
  CHECK(*hb == at(50));
  f.queue.set_clock(at(40));  // past the first lease, inside the extended one
  CHECK(f.queue.claim(f.worker2, {}, 30).empty());
  CHECK(f.queue.heartbeat(id, heartbeat_request{grant.token, std::nullopt}, f.worker1));
  auto task = f.queue.get_task(id);
  CHECK((*task)["claims"][0]["progress"] == "compiling");  // null progress keeps the last
  CHECK((*task)["claims"][0]["lease_expires_at"] == at(70));
}

TEST_CASE("a holder's token used by another agent is forbidden and changes nothing", "[lease]") {
  queue_fixture f;
  auto id = f.add();
  auto grant = f.claim_one(f.worker1);
  auto before = f.snapshot(id);
  auto hb = f.queue.heartbeat(id, heartbeat_request{grant.token, std::nullopt}, f.worker2);
  REQUIRE_FALSE(hb);
  CHECK(hb.error().code == error_code::forbidden);
  auto sub = f.queue.submit(id, submit_for(id, grant.token), f.worker2);
  REQUIRE_FALSE(sub);
  CHECK(sub.error().code == error_code::forbidden);
  CHECK(f.snapshot(id) == before);
}

TEST_CASE("after a release the token is stale", "[lease]") {
  queue_fixture f;
  auto id = f.add();
  auto grant = f.claim_one(f.worker1);
  auto released = f.queue.release(id, release_request{grant.token, "flaky", true}, f.worker1,
                                  backoff_policy{0, 0});
  REQUIRE(released);
  CHECK(released->state == task_state::queued);
  auto before = f.snapshot(id);
  // The same release again is a retry of a call that landed: the same
  // success, nothing written (docs/api.md, "Retries"); any other holder call
  // with the released token is stale.
  auto again = f.queue.release(id, release_request{grant.token, "again", true}, f.worker1, {});
  REQUIRE(again);
  CHECK(again->state == task_state::queued);
  auto hb = f.queue.heartbeat(id, {grant.token, std::nullopt}, f.worker1);
  REQUIRE_FALSE(hb);
  CHECK(hb.error().code == error_code::stale_token);
  auto sub = f.queue.submit(id, submit_for(id, grant.token), f.worker1);
  REQUIRE_FALSE(sub);
  CHECK(sub.error().code == error_code::stale_token);
  CHECK(f.snapshot(id) == before);
}

TEST_CASE("a stale reviewer cannot approve or reject", "[lease]") {
  queue_fixture f;
  auto id = f.add();
  auto review = f.to_review(id, f.worker1, f.reviewer1);
  f.queue.set_clock(at(61));  // reviewer-1's lease ran out
  auto second = f.claim_one(f.reviewer2);
  REQUIRE(second.task_id == id);
  CHECK(second.token > review.token);
  auto before = f.snapshot(id);
  auto app = f.queue.approve(id, review_request{review.token, verdict::approve, "lgtm"},
                             f.reviewer1);
  REQUIRE_FALSE(app);
  CHECK(app.error().code == error_code::stale_token);
  auto rej = f.queue.reject(id, review_request{review.token, verdict::reject, "bad"},
                            f.reviewer1);
  REQUIRE_FALSE(rej);
  CHECK(rej.error().code == error_code::stale_token);
  CHECK(f.snapshot(id) == before);
}

TEST_CASE("holder calls on unknown tasks answer not_found - wrong-role calls invalid_state",
          "[lease]") {
  queue_fixture f;
  auto hb = f.queue.heartbeat(999999, heartbeat_request{1, std::nullopt}, f.worker1);
  REQUIRE_FALSE(hb);
  CHECK(hb.error().code == error_code::not_found);

  auto id = f.add();
  auto review = f.to_review(id, f.worker1, f.reviewer1);
  auto before = f.snapshot(id);
  // A reviewer's live token handed to submit (a worker's call) is refused.
  auto sub = f.queue.submit(id, submit_for(id, review.token), f.reviewer1);
  REQUIRE_FALSE(sub);
  CHECK(sub.error().code == error_code::invalid_state);
  CHECK(f.snapshot(id) == before);
}
