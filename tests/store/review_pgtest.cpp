// Reviews: rejections feed back to workers and into the disagreement log;
// approvals hold the task for the merger until it lands exactly once.
#include <catch2/catch.hpp>
#include <pqxx/pqxx>

#include <thread>

#include "support/queue_fixture.hpp"

using namespace agentq;
using namespace agentq::testing;
using nlohmann::json;

TEST_CASE("a rejection sends the task back with feedback and writes a disagreement",
          "[review]") {
  queue_fixture f;
  auto id = f.add({{"title", "add a greeting"}});
  auto review = f.to_review(id, f.worker1, f.reviewer1);
  auto rejected = f.queue.reject(id, {review.token, verdict::reject, "the greeting is rude\nfix it"},
                                 f.reviewer1);
  REQUIRE(rejected);
  CHECK(rejected->state == task_state::queued);
  CHECK(rejected->task["review_round"] == 1);
  CHECK(rejected->task["attempt"] == 0);  // a new round, a fresh attempt budget

  auto entry = f.queue.get_disagreement(rejected->disagreement_id);
  REQUIRE(entry);
  CHECK((*entry)["task_id"] == id);
  CHECK((*entry)["task_title"] == "add a greeting");
  CHECK((*entry)["round"] == 1);
  CHECK((*entry)["worker"] == "worker-1");
  CHECK((*entry)["worker_summary"] == "did it");
  CHECK((*entry)["reviewer"] == "reviewer-1");
  CHECK((*entry)["reasons"] == "the greeting is rude\nfix it");
  CHECK((*entry)["commit"] == std::string(40, 'a'));
  CHECK((*entry)["status"] == "open");
  CHECK((*entry)["resolution"].is_null());

  // The next worker sees the reasons.
  auto next = f.claim_one(f.worker2);
  REQUIRE(next.task_id == id);
  REQUIRE(next.answer["feedback"].size() == 1);
  CHECK(next.answer["feedback"][0]["text"] == "the greeting is rude\nfix it");
  CHECK(next.answer["feedback"][0]["author"] == "reviewer-1");
  CHECK(next.answer["feedback"][0]["round"] == 1);
}

TEST_CASE("the last review round's rejection waits for a person", "[review]") {
  queue_fixture f;
  auto id = f.add({{"max_review_rounds", 2}});
  for (int round = 1; round <= 2; ++round) {
    auto review = f.to_review(id, round == 1 ? f.worker1 : f.worker2, f.reviewer1);
    auto rejected = f.queue.reject(id, {review.token, verdict::reject, "round " + std::to_string(round)},
                                   f.reviewer1);
    REQUIRE(rejected);
    CHECK(rejected->state == (round == 1 ? task_state::queued : task_state::needs_human));
  }
  CHECK(f.queue.claim(f.worker1, {}, 60).empty());
  CHECK(f.queue.list_disagreements("open", 100).size() == 2);
}

TEST_CASE("disagreements are resolved once - by a named person", "[review]") {
  queue_fixture f;
  auto id = f.add();
  auto review = f.to_review(id, f.worker1, f.reviewer1);
  auto rejected = f.queue.reject(id, {review.token, verdict::reject, "missing tests"}, f.reviewer1);
  REQUIRE(rejected);
  auto d = rejected->disagreement_id;
  auto resolved = f.queue.resolve_disagreement(d, {"worker_right", "tests were not asked for"},
                                               "alice");
  REQUIRE(resolved);
  CHECK((*resolved)["status"] == "resolved");
  CHECK((*resolved)["resolution"]["decision"] == "worker_right");
  CHECK((*resolved)["resolution"]["by"] == "alice");
  CHECK((*resolved)["reasons"] == "missing tests");  // the entry itself is unchanged

  auto again = f.queue.resolve_disagreement(d, {"reviewer_right", "changed my mind"}, "bob");
  REQUIRE_FALSE(again);
  CHECK(again.error().code == error_code::invalid_state);
  CHECK((*f.queue.get_disagreement(d))["resolution"]["by"] == "alice");
  auto missing = f.queue.resolve_disagreement(999999, {"spec_unclear", ""}, "alice");
  REQUIRE_FALSE(missing);
  CHECK(missing.error().code == error_code::not_found);
  CHECK(f.queue.list_disagreements("open", 100).empty());
  CHECK(f.queue.list_disagreements("resolved", 100).size() == 1);
  CHECK(f.queue.list_disagreements("all", 100).size() == 1);
}

TEST_CASE("an approval holds the task for the merger: no heartbeat or cancel or reaper takes it",
          "[review][merge]") {
  queue_fixture f;
  auto id = f.add();
  auto review = f.to_review(id, f.worker1, f.reviewer1);
  auto merge = f.queue.approve(id, {review.token, verdict::approve, "lgtm"}, f.reviewer1);
  REQUIRE(merge);
  // A retried approval (lost answer) finds the same merge.
  auto retried = f.queue.approve(id, {review.token, verdict::approve, "lgtm"}, f.reviewer1);
  REQUIRE(retried);
  CHECK(*retried == *merge);

  auto before = f.snapshot(id);
  auto hb = f.queue.heartbeat(id, {review.token, std::nullopt}, f.reviewer1);
  REQUIRE_FALSE(hb);
  CHECK(hb.error().code == error_code::invalid_state);
  auto cancel = f.queue.cancel(id, "admin", std::nullopt);
  REQUIRE_FALSE(cancel);
  CHECK(cancel.error().code == error_code::invalid_state);
  f.queue.set_clock(at(1000000));
  CHECK(f.queue.reap_expired(100) == 0);
  CHECK(f.queue.claim(f.reviewer2, {}, 60).empty());
  CHECK(f.snapshot(id) == before);

  auto job = f.queue.get_merge(*merge);
  REQUIRE(job);
  CHECK(job->status == "pending");
  CHECK(job->commit == std::string(40, 'a'));
  auto submitted_token = (*f.queue.get_task(id))["submissions"][0]["token"].get<std::int64_t>();
  CHECK(job->branch == claim_branch(id, submitted_token));
  CHECK(job->task_id == id);
  CHECK(f.queue.list_pending_merges(0, 10) == std::vector<std::int64_t>{*merge});

  auto done = f.queue.finish_merge_merged(*merge, std::string(40, '9'), "merger");
  REQUIRE(done);
  CHECK((*done)["state"] == "done");
  CHECK_FALSE(f.queue.finish_merge_merged(*merge, std::string(40, '8'), "merger"));  // once
  CHECK_FALSE(f.queue.finish_merge_conflict(*merge, "late", "merger"));
  CHECK(f.queue.get_merge(*merge)->merge_commit == std::string(40, '9'));
  CHECK(f.queue.list_pending_merges(0, 10).empty());
}

TEST_CASE("a merge conflict sends the task back with the conflict as feedback - not as a "
          "disagreement",
          "[review][merge]") {
  queue_fixture f;
  auto id = f.add();
  auto review = f.to_review(id, f.worker1, f.reviewer1);
  auto merge = f.queue.approve(id, {review.token, verdict::approve, ""}, f.reviewer1);
  REQUIRE(merge);
  auto requeued = f.queue.finish_merge_conflict(*merge, "conflict in src/app.c", "merger");
  REQUIRE(requeued);
  CHECK((*requeued)["state"] == "queued");
  CHECK(f.queue.list_disagreements("all", 10).empty());
  auto next = f.claim_one(f.worker2);
  REQUIRE(next.task_id == id);
  REQUIRE(next.answer["feedback"].size() == 1);
  CHECK(next.answer["feedback"][0]["source"] == "merge_conflict");
  CHECK(next.answer["feedback"][0]["text"] == "conflict in src/app.c");
  CHECK((*f.queue.get_task(id))["events"].back()["kind"] == "claimed");
}

TEST_CASE("a person approves a needs_human task over the reviewer: merged and logged as an "
          "override with both sides' words",
          "[review][merge]") {
  queue_fixture f;
  auto id = f.add({{"max_review_rounds", 1}});
  auto review = f.to_review(id, f.worker1, f.reviewer1);
  REQUIRE(f.queue.reject(id, {review.token, verdict::reject, "needs more tests"}, f.reviewer1));
  REQUIRE(f.state(id) == "needs_human");

  auto not_yet = f.queue.approve_as_human(f.add(), "alice", std::nullopt);  // queued
  REQUIRE_FALSE(not_yet);
  CHECK(not_yet.error().code == error_code::invalid_state);

  auto merge = f.queue.approve_as_human(id, "alice", "tests were not asked for");
  REQUIRE(merge);
  auto before = f.snapshot(id);
  auto twice = f.queue.approve_as_human(id, "bob", std::nullopt);  // merge pending
  REQUIRE_FALSE(twice);
  CHECK(twice.error().code == error_code::invalid_state);
  auto requeue = f.queue.requeue(id, "bob", std::nullopt);
  REQUIRE_FALSE(requeue);
  CHECK(f.snapshot(id) == before);

  auto entries = f.queue.list_disagreements("all", 10);
  REQUIRE(entries.size() == 2);
  const auto& override_entry = entries[0];  // newest first
  CHECK(override_entry["kind"] == "human_override");
  CHECK(override_entry["worker"] == "worker-1");
  CHECK(override_entry["worker_summary"] == "did it");
  CHECK(override_entry["reviewer"] == "reviewer-1");
  CHECK(override_entry["reasons"] == "needs more tests");
  CHECK(override_entry["resolution"]["decision"] == "worker_right");
  CHECK(override_entry["resolution"]["by"] == "alice");
  CHECK(override_entry["resolution"]["note"] == "tests were not asked for");

  auto done = f.queue.finish_merge_merged(*merge, std::string(40, '7'), "merger");
  REQUIRE(done);
  CHECK((*done)["state"] == "done");
  auto events = (*f.queue.get_task(id))["events"];
  CHECK(events[events.size() - 2]["kind"] == "override_approved");
  CHECK(events.back()["from_state"] == "needs_human");
  CHECK(events.back()["to_state"] == "done");
}

TEST_CASE("cancels racing approvals: a task is either cancelled with no merge - or merged",
          "[review][merge][concurrency]") {
  queue_fixture f;
  constexpr int n = 40;
  std::vector<std::pair<std::int64_t, std::int64_t>> reviews;  // task, reviewer token
  for (int i = 0; i < n; ++i) {
    auto id = f.add();
    reviews.emplace_back(id, f.to_review(id, f.worker1, f.reviewer1).token);
  }
  std::vector<std::int64_t> merges;
  std::thread approver([&] {
    store own(f.db.url());
    own.set_clock(at(1));
    for (const auto& [id, token] : reviews)
      if (auto merge = own.approve(id, {token, verdict::approve, ""}, f.reviewer1)) {
        merges.push_back(*merge);
      }
  });
  std::thread canceller([&] {
    store own(f.db.url());
    own.set_clock(at(1));
    for (auto it = reviews.rbegin(); it != reviews.rend(); ++it) own.cancel(it->first, "admin", "race");
  });
  approver.join();
  canceller.join();
  for (auto merge : merges) f.queue.finish_merge_merged(merge, std::string(40, '5'), "merger");

  int done = 0, cancelled = 0;
  for (const auto& [id, token] : reviews) {
    auto state = f.state(id);
    done += state == "done";
    cancelled += state == "cancelled";
  }
  CHECK(done + cancelled == n);
  CHECK(done == static_cast<int>(merges.size()));
  auto problems = f.queue.check_invariants();
  for (const auto& p : problems) UNSCOPED_INFO(p);
  CHECK(problems.empty());
}
