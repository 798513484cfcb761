// The invariant checker finds nothing wrong with a real history, and finds
// what is wrong with a history that was tampered with.
#include <catch2/catch.hpp>
#include <pqxx/pqxx>

#include "support/queue_fixture.hpp"

using namespace agentq;
using namespace agentq::testing;

TEST_CASE("a full history of claims and expiries and rejections and merges is consistent",
          "[invariants]") {
  queue_fixture f;
  auto a = f.add();
  auto b = f.add({{"max_review_rounds", 1}});
  auto c = f.add();
  // a: rejected once, then approved and merged.
  auto review = f.to_review(a, f.worker1, f.reviewer1);
  REQUIRE(f.queue.reject(a, {review.token, verdict::reject, "no"}, f.reviewer1));
  review = f.to_review(a, f.worker2, f.reviewer2);
  auto merge = f.queue.approve(a, {review.token, verdict::approve, ""}, f.reviewer2);
  REQUIRE(merge);
  REQUIRE(f.queue.finish_merge_merged(*merge, std::string(40, '1'), "merger"));
  // b: rejected on its only round, then a person overrides.
  review = f.to_review(b, f.worker1, f.reviewer1);
  REQUIRE(f.queue.reject(b, {review.token, verdict::reject, "no"}, f.reviewer1));
  auto override_merge = f.queue.approve_as_human(b, "alice", "fine");
  REQUIRE(override_merge);
  REQUIRE(f.queue.finish_merge_merged(*override_merge, std::string(40, '2'), "merger"));
  // c: a lease runs out and someone else takes over, then it is cancelled.
  f.claim_one(f.worker1, 30);
  f.queue.set_clock(at(31));
  f.claim_one(f.worker2, 30);
  REQUIRE(f.queue.cancel(c, "admin", "enough"));

  auto problems = f.queue.check_invariants();
  for (const auto& p : problems) UNSCOPED_INFO(p);
  CHECK(problems.empty());
}

TEST_CASE("the invariant checker reports a tampered history", "[invariants]") {
  queue_fixture f;
  auto id = f.add();
  f.claim_one(f.worker1);
  {
    // Someone moves the task behind the history's back (triggers only guard
    // events and the disagreement log).
    pqxx::work tx(f.sql);
    tx.exec_params("update tasks set state = 'queued', claim_token = null, claim_agent_id = null, "
                   "claim_role = null, lease_expires_at = null where id = $1",
                   id);
    tx.exec_params("update tasks set state = 'done', finished_at = now() where id = $1", id);
    tx.commit();
  }
  auto problems = f.queue.check_invariants();
  REQUIRE(problems.size() >= 2);  // the history ends at working; done without a merge
  bool saw_state = false, saw_merge = false, saw_claim = false;
  for (const auto& p : problems) {
    saw_state |= p.find("its history ends at working") != std::string::npos;
    saw_merge |= p.find("landed merges") != std::string::npos;
    saw_claim |= p.find("live claims") != std::string::npos;
  }
  CHECK(saw_state);
  CHECK(saw_merge);
  CHECK(saw_claim);
}
