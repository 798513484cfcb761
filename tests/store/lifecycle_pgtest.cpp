// Task life (docs/api.md §3): dependencies, backoff, attempts, cancel, requeue,
// idempotency, and the event history of every transition.
#include <atomic>
#include <set>
#include <thread>

#include <catch2/catch.hpp>
#include <pqxx/pqxx>

#include "support/queue_fixture.hpp"

using namespace agentq;
using namespace agentq::testing;
using nlohmann::json;

namespace {

// Drives a task from queued to done through the store (merge recorded as landed).
void finish(queue_fixture& f, std::int64_t id) {
  auto review = f.to_review(id, f.worker1, f.reviewer1);
  auto merge = f.queue.approve(id, review_request{review.token, verdict::approve, "lgtm"},
                               f.reviewer1);
  REQUIRE(merge);
  REQUIRE(f.queue.finish_merge_merged(*merge, std::string(40, 'c'), "merger"));
}

}  // namespace

TEST_CASE("a task with dependencies waits until they are all done", "[lifecycle]") {
  queue_fixture f;
  auto a = f.add();
  auto b = f.add();
  auto c = f.add({{"depends_on", {a, b}}, {"priority", 100}});
  finish(f, a);
  CHECK(f.state(a) == "done");
  auto grant = f.claim_one(f.worker2);
  CHECK(grant.task_id == b);  // c still waits for b, despite its priority
  auto merge_b = [&] {
    REQUIRE(f.queue.submit(b, {grant.token, claim_branch(b, grant.token), std::string(40, 'd'), "b"},
                           f.worker2));
    auto review = f.claim_one(f.reviewer1);
    auto merge = f.queue.approve(b, {review.token, verdict::approve, ""}, f.reviewer1);
    REQUIRE(merge);
    REQUIRE(f.queue.finish_merge_merged(*merge, std::string(40, 'e'), "merger"));
  };
  merge_b();
  CHECK(f.claim_one(f.worker1).task_id == c);
}

TEST_CASE("dependencies on unknown tasks are refused and nothing is added", "[lifecycle]") {
  queue_fixture f;
  auto a = f.add();
  auto parsed = parse_new_task(json{{"title", "t"}, {"body", ""}, {"repo", "demo"},
                                    {"depends_on", {a, 424242}}});
  REQUIRE(parsed);
  auto added = f.queue.add_task(*parsed, "admin");
  REQUIRE_FALSE(added);
  CHECK(added.error().code == error_code::invalid_request);
  auto unknown_repo = parse_new_task(json{{"title", "t"}, {"body", ""}, {"repo", "nope"}});
  auto refused = f.queue.add_task(*unknown_repo, "admin");
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == error_code::invalid_request);
  CHECK(f.queue.list_tasks(std::nullopt, std::nullopt, 100, std::nullopt).tasks.size() == 1);
}

TEST_CASE("a released task waits out its backoff - then fails when attempts are used up",
          "[lifecycle]") {
  queue_fixture f;
  auto id = f.add({{"max_attempts", 2}});
  backoff_policy policy{5, 60};
  auto first = f.claim_one(f.worker1);
  auto released = f.queue.release(id, {first.token, "tests failed", true}, f.worker1, policy);
  REQUIRE(released);
  CHECK(released->state == task_state::queued);
  CHECK(released->task["run_after"] == at(5));

  f.queue.set_clock(at(4.9));
  CHECK(f.queue.claim(f.worker1, {}, 60).empty());
  f.queue.set_clock(at(5));
  auto second = f.claim_one(f.worker1);
  CHECK(second.answer["task"]["attempt"] == 2);
  auto failed = f.queue.release(id, {second.token, "still failing", true}, f.worker1, policy);
  REQUIRE(failed);
  CHECK(failed->state == task_state::failed);
  CHECK(failed->task["finished_at"].is_string());

  auto events = (*f.queue.get_task(id))["events"];
  CHECK(events.back()["kind"] == "released");
  CHECK(events.back()["from_state"] == "working");
  CHECK(events.back()["to_state"] == "failed");
  CHECK(events.back()["detail"]["reason"] == "still failing");
}

TEST_CASE("a release without retry fails the task - a reviewer's release returns it for review",
          "[lifecycle]") {
  queue_fixture f;
  auto give_up = f.add();
  auto grant = f.claim_one(f.worker1);
  auto released = f.queue.release(give_up, {grant.token, "impossible", false}, f.worker1, {});
  REQUIRE(released);
  CHECK(released->state == task_state::failed);

  auto reviewed = f.add();
  auto review = f.to_review(reviewed, f.worker1, f.reviewer1);
  auto back = f.queue.release(reviewed, {review.token, "reviewer crashed", true}, f.reviewer1, {});
  REQUIRE(back);
  CHECK(back->state == task_state::awaiting_review);
  CHECK(f.claim_one(f.reviewer2).task_id == reviewed);
}

TEST_CASE("a lease that runs out on the last attempt fails the task", "[lifecycle]") {
  queue_fixture f;
  auto id = f.add({{"max_attempts", 1}});
  f.claim_one(f.worker1, 30);
  f.queue.set_clock(at(31));
  CHECK(f.queue.claim(f.worker2, {}, 30).empty());  // no attempts left to take over
  CHECK(f.queue.reap_expired(10) == 1);
  CHECK(f.state(id) == "failed");
}

TEST_CASE("cancel works from every state that is not final and ends the live claim",
          "[lifecycle]") {
  queue_fixture f;
  auto queued = f.add();
  auto working = f.add();
  auto awaiting = f.add();
  auto reviewing = f.add();
  auto needs_human = f.add({{"max_review_rounds", 1}});

  // Claim in id order: working first (queued stays queued by taking it last).
  auto w = f.queue.claim(f.worker1, {}, 60, 10);
  REQUIRE(w.size() == 5);
  auto token_of = [&](std::int64_t id) {
    for (const auto& g : w)
      if (g.task_id == id) return g.token;
    return std::int64_t{0};
  };
  REQUIRE(f.queue.release(queued, {token_of(queued), "", true}, f.worker1, {0, 0}));
  for (auto id : {awaiting, reviewing, needs_human})
    REQUIRE(f.queue.submit(id, {token_of(id), claim_branch(id, token_of(id)), std::string(40, 'a'), "s"},
                           f.worker1));
  auto r = f.queue.claim(f.reviewer1, {}, 60, 10);
  REQUIRE(r.size() == 3);
  for (const auto& g : r) {
    if (g.task_id == awaiting) REQUIRE(f.queue.release(awaiting, {g.token, "", true}, f.reviewer1, {}));
    if (g.task_id == needs_human)
      REQUIRE(f.queue.reject(needs_human, {g.token, verdict::reject, "no"}, f.reviewer1));
  }
  CHECK(f.state(queued) == "queued");
  CHECK(f.state(working) == "working");
  CHECK(f.state(awaiting) == "awaiting_review");
  CHECK(f.state(reviewing) == "reviewing");
  CHECK(f.state(needs_human) == "needs_human");

  for (auto id : {queued, working, awaiting, reviewing, needs_human}) {
    auto cancelled = f.queue.cancel(id, "admin", "not needed");
    REQUIRE(cancelled);
    CHECK(cancelled->task["state"] == "cancelled");
  }
  // The worker's claim ended with the cancel: its heartbeat is refused.
  auto hb = f.queue.heartbeat(working, {token_of(working), std::nullopt}, f.worker1);
  REQUIRE_FALSE(hb);
  CHECK(hb.error().code == error_code::stale_token);
  CHECK((*f.queue.get_task(working))["claims"].back()["outcome"] == "cancelled");

  // Final states stay final.
  auto before = f.snapshot(queued);
  auto again = f.queue.cancel(queued, "admin", std::nullopt);
  REQUIRE_FALSE(again);
  CHECK(again.error().code == error_code::invalid_state);
  CHECK(f.snapshot(queued) == before);
  auto missing = f.queue.cancel(987654, "admin", std::nullopt);
  REQUIRE_FALSE(missing);
  CHECK(missing.error().code == error_code::not_found);
}

TEST_CASE("requeue brings back needs_human and failed and cancelled tasks with a note",
          "[lifecycle]") {
  queue_fixture f;
  auto id = f.add({{"max_review_rounds", 1}});
  auto review = f.to_review(id, f.worker1, f.reviewer1);
  REQUIRE(f.queue.reject(id, {review.token, verdict::reject, "wrong file"}, f.reviewer1));
  CHECK(f.state(id) == "needs_human");

  auto not_now = f.queue.requeue(f.add(), "admin", std::nullopt);
  REQUIRE_FALSE(not_now);
  CHECK(not_now.error().code == error_code::invalid_state);

  auto requeued = f.queue.requeue(id, "alice", "edit src/app.c, not src/main.c");
  REQUIRE(requeued);
  CHECK(requeued->task["state"] == "queued");
  CHECK(requeued->task["max_review_rounds"] == 2);  // one more round
  auto grant = f.claim_one(f.worker2);
  REQUIRE(grant.task_id == id);
  const json& feedback = grant.answer["feedback"];
  REQUIRE(feedback.size() == 2);
  CHECK(feedback[0]["source"] == "review");
  CHECK(feedback[0]["text"] == "wrong file");
  CHECK(feedback[1]["source"] == "human");
  CHECK(feedback[1]["author"] == "alice");
  CHECK(feedback[1]["text"] == "edit src/app.c, not src/main.c");
}

TEST_CASE("concurrent adds with one idempotency key make one task", "[lifecycle][concurrency]") {
  queue_fixture f;
  constexpr int n = 16;
  std::vector<std::int64_t> ids(n);
  std::atomic<int> created{0}, errors{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i) {
    threads.emplace_back([&, i] {
      try {
        store own(f.db.url());
        auto task = parse_new_task(json{{"title", "same"}, {"body", ""}, {"repo", "demo"},
                                        {"idempotency_key", "deploy-42"}});
        auto added = own.add_task(*task, "admin");
        if (!added) throw std::runtime_error(added.error().message);
        ids[i] = added->id;
        if (added->created) ++created;
      } catch (...) {
        ++errors;
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(errors == 0);
  CHECK(created == 1);
  CHECK(std::set<std::int64_t>(ids.begin(), ids.end()).size() == 1);
  CHECK(f.queue.list_tasks(std::nullopt, std::nullopt, 100, std::nullopt).tasks.size() == 1);
}

TEST_CASE("every transition is in the event history with its token and actor and states",
          "[lifecycle]") {
  queue_fixture f;
  auto id = f.add();
  auto review = f.to_review(id, f.worker1, f.reviewer1);
  auto merge = f.queue.approve(id, {review.token, verdict::approve, "lgtm"}, f.reviewer1);
  REQUIRE(merge);
  REQUIRE(f.queue.finish_merge_merged(*merge, std::string(40, 'f'), "merger"));

  auto task = *f.queue.get_task(id);
  std::vector<std::string> kinds;
  for (const auto& e : task["events"]) kinds.push_back(e["kind"]);
  CHECK(kinds == std::vector<std::string>{"added", "claimed", "submitted", "claimed", "approved",
                                          "merged"});
  const json& events = task["events"];
  CHECK(events[1]["actor"] == "worker-1");
  CHECK(events[1]["from_state"] == "queued");
  CHECK(events[1]["to_state"] == "working");
  CHECK(events[2]["token"] == events[1]["token"]);
  CHECK(events[3]["actor"] == "reviewer-1");
  CHECK(events[3]["token"] == review.token);
  CHECK(events[5]["to_state"] == "done");
  for (const auto& e : events) {
    for (const char* key : {"at", "kind", "actor", "token", "from_state", "to_state", "detail"})
      CHECK(e.contains(key));
  }
  CHECK(task["task"]["state"] == "done");
  CHECK(task["submissions"].size() == 1);
  CHECK(task["submissions"][0]["worker"] == "worker-1");
  CHECK(task["reviews"][0]["verdict"] == "approve");
  CHECK(task["reviews"][0]["reviewer"] == "reviewer-1");
}

TEST_CASE("task listing pages by id and filters by state and queue", "[lifecycle]") {
  queue_fixture f;
  for (int i = 0; i < 5; ++i) f.add();
  auto other = f.add({{"queue", "other"}});
  auto page = f.queue.list_tasks(std::nullopt, std::nullopt, 4, std::nullopt);
  REQUIRE(page.tasks.size() == 4);
  REQUIRE(page.next);
  CHECK(page.tasks[0]["id"] == other);  // newest first
  auto rest = f.queue.list_tasks(std::nullopt, std::nullopt, 4, page.next);
  CHECK(rest.tasks.size() == 2);
  CHECK_FALSE(rest.next);
  CHECK(f.queue.list_tasks(task_state::queued, "other", 10, std::nullopt).tasks.size() == 1);
  CHECK(f.queue.list_tasks(task_state::working, std::nullopt, 10, std::nullopt).tasks.empty());
}
