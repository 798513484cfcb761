// Retried holder calls (docs/api.md, "Retries"): the identical repeat of a
// call that landed answers the same success, from any server; only a token
// that was genuinely superseded is refused as stale, and the same token with
// other content is refused as such (issue 14).
#include <catch2/catch.hpp>

#include "support/queue_fixture.hpp"

using namespace agentq;
using namespace agentq::testing;
using nlohmann::json;

namespace {

submit_request submission(std::int64_t id, std::int64_t token, char commit = 'a') {
  return {token, claim_branch(id, token), std::string(40, commit), "did it"};
}

}  // namespace

TEST_CASE("a retried submit that landed answers the same success and writes nothing",
          "[retry]") {
  queue_fixture f;
  auto id = f.add();
  auto work = f.claim_one(f.worker1);
  auto first = f.queue.submit(id, submission(id, work.token), f.worker1);
  REQUIRE(first);
  auto after_first = f.snapshot(id);

  // The same call again (its answer was lost), on another connection as a
  // second server would make it.
  store other(f.db.url());
  other.set_clock(at(1));
  auto again = other.submit(id, submission(id, work.token), f.worker1);
  REQUIRE(again);
  CHECK((*again)["id"] == id);
  CHECK((*again)["state"] == "awaiting_review");
  CHECK(f.snapshot(id) == after_first);

  // Still the same success once a reviewer has taken the task on.
  auto review = f.claim_one(f.reviewer1);
  REQUIRE(review.task_id == id);
  auto later = f.queue.submit(id, submission(id, work.token), f.worker1);
  REQUIRE(later);
  CHECK((*later)["state"] == "reviewing");
}

TEST_CASE("a submit refusal table after the first submit landed", "[retry]") {
  queue_fixture f;
  auto id = f.add();
  auto work = f.claim_one(f.worker1);
  REQUIRE(f.queue.submit(id, submission(id, work.token), f.worker1));
  auto before = f.snapshot(id);

  struct row {
    const char* what;
    submit_request request;
    agent_identity* agent;
    error_code code;
  };
  auto other_branch = submission(id, work.token);
  other_branch.branch = "agentq/" + std::to_string(id) + "/999";
  std::vector<row> rows = {
      {"same token, another commit", submission(id, work.token, 'b'), &f.worker1,
       error_code::invalid_state},
      {"same token, another branch", other_branch, &f.worker1, error_code::invalid_state},
      {"same call from another agent", submission(id, work.token), &f.worker2,
       error_code::stale_token},
      {"a token that never submitted", submission(id, work.token + 1000), &f.worker1,
       error_code::stale_token},
  };
  for (const auto& r : rows) {
    INFO(r.what);
    auto answer = f.queue.submit(id, r.request, *r.agent);
    REQUIRE_FALSE(answer);
    CHECK(answer.error().code == r.code);
    if (r.code == error_code::invalid_state)
      CHECK(answer.error().message.find("already submitted commit " + std::string(40, 'a')) !=
            std::string::npos);
  }
  CHECK(f.snapshot(id) == before);
}

TEST_CASE("a superseded token is still stale even after its successor submitted", "[retry]") {
  queue_fixture f;
  auto id = f.add();
  auto first = f.claim_one(f.worker1, 10);
  f.queue.set_clock(at(11));  // the first lease ran out
  auto second = f.claim_one(f.worker2);
  REQUIRE(second.task_id == id);
  REQUIRE(f.queue.submit(id, submission(id, second.token), f.worker2));
  auto late = f.queue.submit(id, submission(id, first.token), f.worker1);
  REQUIRE_FALSE(late);
  CHECK(late.error().code == error_code::stale_token);
}

TEST_CASE("a retried release and a retried rejection answer the same success", "[retry]") {
  queue_fixture f;
  SECTION("release") {
    auto id = f.add();
    auto work = f.claim_one(f.worker1);
    auto first = f.queue.release(id, {work.token, "no luck", true}, f.worker1, {});
    REQUIRE(first);
    auto before = f.snapshot(id);
    auto again = f.queue.release(id, {work.token, "no luck", true}, f.worker1, {});
    REQUIRE(again);
    CHECK(again->state == first->state);
    CHECK(again->task["id"] == id);
    CHECK(f.snapshot(id) == before);
    auto stranger = f.queue.release(id, {work.token, "no luck", true}, f.worker2, {});
    REQUIRE_FALSE(stranger);
    CHECK(stranger.error().code == error_code::stale_token);
  }
  SECTION("rejection") {
    auto id = f.add();
    auto review = f.to_review(id, f.worker1, f.reviewer1);
    auto first = f.queue.reject(id, {review.token, verdict::reject, "too rude"}, f.reviewer1);
    REQUIRE(first);
    auto before = f.snapshot(id);
    auto again = f.queue.reject(id, {review.token, verdict::reject, "too rude"}, f.reviewer1);
    REQUIRE(again);
    CHECK(again->state == first->state);
    CHECK(again->disagreement_id == first->disagreement_id);
    CHECK(f.snapshot(id) == before);
    CHECK(f.queue.list_disagreements("open", 100).size() == 1);
  }
}
