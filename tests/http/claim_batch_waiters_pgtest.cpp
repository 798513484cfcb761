// Parked long-poll claims served by batched claims (issue 13): the claim
// waiters and a real database, no socket. Each parked caller is answered
// exactly once, each task goes to exactly one caller, filters do not cross.
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>
#include <pqxx/pqxx>

#include "http/claim_waiters.hpp"
#include "http/db_pool.hpp"
#include "http/empty_claims.hpp"
#include "http/handler.hpp"
#include "support/queue_fixture.hpp"

using namespace agentq;
using namespace agentq::testing;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

// Every answer a parked caller got, by caller.
struct answers {
  std::mutex mutex;
  std::map<int, std::vector<http_reply>> by_caller;

  claim_waiters::completion for_caller(int caller) {
    return [this, caller](http_reply reply) {
      std::lock_guard lock(mutex);
      by_caller[caller].push_back(std::move(reply));
    };
  }
  std::size_t callers_answered() {
    std::lock_guard lock(mutex);
    return by_caller.size();
  }
  bool wait_for(std::size_t callers, std::chrono::seconds limit = 60s) {
    const auto until = std::chrono::steady_clock::now() + limit;
    while (callers_answered() < callers) {
      if (std::chrono::steady_clock::now() > until) return false;
      std::this_thread::sleep_for(20ms);
    }
    return true;
  }
};

// Queued tasks in `queue` made awaiting_review by a worker of their own.
void to_awaiting_review(queue_fixture& f, int n, const agent_identity& worker) {
  for (int i = 0; i < n; ++i) {
    auto id = f.add({{"title", "review me"}});
    auto work = f.claim_one(worker);
    REQUIRE(work.task_id == id);
    REQUIRE(f.queue.submit(id, submit_request{work.token, claim_branch(id, work.token),
                                              std::string(40, 'c'), "did it"},
                           worker));
  }
}

struct waiters_fixture {
  explicit waiters_fixture(int max_batch) : handler(config()), pool(f.db.url(), 2) {
    f.queue.set_clock(std::nullopt);  // the pool's connections run on real time
    claim_waiters_config wc;
    wc.sweep_interval = 3600s;  // only notifications wake them here
    wc.max_batch = max_batch;
    waiters = std::make_unique<claim_waiters>(handler, pool, wc, &memory);
    waiters->start();
  }
  ~waiters_fixture() {
    waiters->shutdown();
    pool.stop();
  }
  static handler_config config() {
    handler_config c;
    c.first_lease_s = 10;
    return c;
  }
  std::uint64_t park(const agent_identity& agent, std::vector<std::string> queues, int caller) {
    return waiters->park(parked_claim{agent, std::move(queues), 60, 60}, waiters->generation(),
                         got.for_caller(caller));
  }

  queue_fixture f;
  request_handler handler;
  db_pool pool;
  empty_claims memory;
  answers got;
  std::unique_ptr<claim_waiters> waiters;
};

}  // namespace

TEST_CASE("one add of many tasks wakes parked callers of both roles: each task to one caller once",
          "[waiters][batch]") {
  waiters_fixture w(4);  // small batches: several statements per role
  auto& f = w.f;
  constexpr int workers = 13, other_workers = 3, reviewers = 7;
  constexpr int tasks = 10, other_tasks = 2, reviews = 4;
  to_awaiting_review(f, reviews, f.worker1);  // before anyone parks: no wake-up yet

  std::map<int, agent_identity> caller_agent;
  std::map<int, std::string> caller_kind;
  int caller = 0;
  for (int i = 0; i < workers; ++i, ++caller) {
    caller_agent[caller] = f.make_agent("pw" + std::to_string(i), agent_role::worker);
    caller_kind[caller] = "worker";
    REQUIRE(w.park(caller_agent[caller], {"default"}, caller) != 0);
  }
  for (int i = 0; i < other_workers; ++i, ++caller) {
    caller_agent[caller] = f.make_agent("ow" + std::to_string(i), agent_role::worker);
    caller_kind[caller] = "other";
    REQUIRE(w.park(caller_agent[caller], {"other"}, caller) != 0);
  }
  for (int i = 0; i < reviewers; ++i, ++caller) {
    caller_agent[caller] = f.make_agent("pr" + std::to_string(i), agent_role::reviewer);
    caller_kind[caller] = "reviewer";
    REQUIRE(w.park(caller_agent[caller], {}, caller) != 0);
  }
  REQUIRE(w.waiters->size() == static_cast<std::size_t>(caller));

  f.add_many(tasks, std::nullopt);  // one commit adds them all
  std::set<std::int64_t> default_tasks, other_queue;
  {
    pqxx::nontransaction tx(f.sql);
    for (const auto& row : tx.exec("select id from tasks where state = 'queued'"))
      default_tasks.insert(row[0].as<std::int64_t>());
  }
  REQUIRE(default_tasks.size() == static_cast<std::size_t>(tasks));
  for (int i = 0; i < other_tasks; ++i) other_queue.insert(f.add({{"queue", "other"}}));
  w.waiters->notify_all();
  REQUIRE(w.got.wait_for(tasks + other_tasks + reviews));
  // The rest stay parked: nothing for them.
  std::this_thread::sleep_for(200ms);
  CHECK(w.got.callers_answered() == static_cast<std::size_t>(tasks + other_tasks + reviews));
  CHECK(w.waiters->size() == static_cast<std::size_t>(caller - tasks - other_tasks - reviews));

  std::map<std::int64_t, int> callers_per_task;
  std::set<std::int64_t> tokens;
  {
    std::lock_guard lock(w.got.mutex);
    for (const auto& [who, replies] : w.got.by_caller) {
      REQUIRE(replies.size() == 1);
      REQUIRE(replies[0].status == 200);
      auto body = json::parse(replies[0].body);
      const auto task = body["task"]["id"].get<std::int64_t>();
      ++callers_per_task[task];
      tokens.insert(body["claim"]["token"].get<std::int64_t>());
      CHECK(body["claim"]["agent"] == caller_agent[who].name);
      if (caller_kind[who] == "worker") CHECK(default_tasks.count(task) == 1);
      if (caller_kind[who] == "other") CHECK(other_queue.count(task) == 1);
      if (caller_kind[who] == "reviewer") {
        CHECK(body["claim"]["role"] == "reviewer");
        CHECK(body["submission"]["worker"] == f.worker1.name);
      }
    }
  }
  CHECK(callers_per_task.size() == static_cast<std::size_t>(tasks + other_tasks + reviews));
  for (const auto& [task, n] : callers_per_task) CHECK(n == 1);
  CHECK(tokens.size() == callers_per_task.size());

  // Shutdown answers the rest, once each: every caller answered exactly once.
  w.waiters->shutdown();
  std::lock_guard lock(w.got.mutex);
  CHECK(w.got.by_caller.size() == static_cast<std::size_t>(caller));
  for (const auto& [who, replies] : w.got.by_caller) {
    CHECK(replies.size() == 1);
    if (replies.size() == 1 && replies[0].status != 200) CHECK(replies[0].status == 204);
  }
  for (const auto& broken : f.queue.check_invariants()) FAIL_CHECK(broken);
}

TEST_CASE("a caller whose client went away with its task in a batch loses the task only until "
          "the first lease runs out",
          "[waiters][batch]") {
  waiters_fixture w(8);
  auto& f = w.f;
  // The caller's answer goes nowhere, as into a connection that closed.
  auto gone = w.waiters->park(parked_claim{f.worker1, {}, 60, 60}, w.waiters->generation(),
                              [](http_reply) {});
  REQUIRE(gone != 0);
  auto id = f.add();
  w.waiters->notify("default");
  // Wait until the batch claimed it for the caller that is gone.
  for (int i = 0; i < 3000 && f.state(id) != "working"; ++i) std::this_thread::sleep_for(10ms);
  REQUIRE(f.state(id) == "working");
  CHECK(w.waiters->size() == 0);
  const auto lost = f.snapshot(id)["task"]["claim_token"].get<std::int64_t>();

  // Its first lease (10 s) runs out: the task is anyone's again.
  f.queue.set_clock(at(0));  // 2030, long after
  auto again = f.claim_one(f.worker2);
  CHECK(again.task_id == id);
  CHECK(again.token > lost);
  auto claims = f.snapshot(id)["claims"];
  REQUIRE(claims.size() == 2);
  CHECK(claims[0]["outcome"] == "expired");
  CHECK(f.queue.check_invariants().empty());
}

TEST_CASE("a cancelled parked claim is never answered and its task goes to the next in line",
          "[waiters][batch]") {
  waiters_fixture w(8);
  auto& f = w.f;
  auto first = w.park(f.worker1, {}, 1);
  w.park(f.worker2, {}, 2);
  w.waiters->cancel(first);
  CHECK(w.waiters->size() == 1);
  auto id = f.add();
  w.waiters->notify("default");
  REQUIRE(w.got.wait_for(1));
  std::this_thread::sleep_for(100ms);
  std::lock_guard lock(w.got.mutex);
  CHECK(w.got.by_caller.count(1) == 0);
  REQUIRE(w.got.by_caller.count(2) == 1);
  CHECK(json::parse(w.got.by_caller[2].at(0).body)["task"]["id"] == id);
}

TEST_CASE("a drained filter that found nothing is remembered until the next change",
          "[waiters][batch][idle]") {
  waiters_fixture w(8);
  auto& f = w.f;
  const parked_claim worker_poll{f.worker1, {}, 60, 60};
  const parked_claim other_worker_poll{f.worker2, {}, 60, 60};
  const parked_claim reviewer_poll{f.reviewer1, {}, 60, 60};
  w.park(f.worker1, {}, 1);
  w.park(f.reviewer1, {}, 2);
  CHECK_FALSE(w.memory.known(worker_poll));
  w.waiters->notify_all();  // a drain: both batches come back empty
  for (int i = 0; i < 3000 && !(w.memory.known(worker_poll) && w.memory.known(reviewer_poll)); ++i)
    std::this_thread::sleep_for(10ms);
  CHECK(w.memory.known(worker_poll));
  CHECK(w.memory.known(other_worker_poll));  // one filter: whoever asks
  CHECK(w.memory.known(parked_claim{f.reviewer2, {}, 60, 60}));  // no submission for anyone
  CHECK_FALSE(w.memory.known(parked_claim{f.worker1, {"elsewhere"}, 60, 60}));
  CHECK(w.got.callers_answered() == 0);

  w.waiters->notify("default");  // a task may have come: forgotten
  CHECK_FALSE(w.memory.known(worker_poll));
}

TEST_CASE("a long-poll like one that came back empty parks without asking the database",
          "[waiters][idle]") {
  queue_fixture f;  // its clock is pinned: tasks added are claimable at once
  empty_claims memory;
  handler_services services;
  services.empty_claims_memory = &memory;
  request_handler handler(handler_config{}, services);
  auto bearer = [&](const std::string& name, agent_role role) {
    auto made = f.queue.add_agent(new_agent{name, role});
    REQUIRE(made);
    return (*made)["token"].get<std::string>();
  };
  const auto worker = bearer("poller", agent_role::worker);
  const auto other_worker = bearer("poller-2", agent_role::worker);
  auto claim = [&](const std::string& token, const json& body) {
    return handler.handle(http_request{"POST", "/v1/claims", "Bearer " + token, body.dump()},
                          f.queue);
  };

  REQUIRE(claim(worker, {{"wait_s", 30}}).park);  // asked: empty, remembered
  // A task no notification told the memory of: a long-poll like the empty
  // one parks without asking (the task stays queued), whoever asks; the
  // claim waiters' sweep is the backstop that finds it.
  auto id = f.add();
  CHECK(claim(worker, {{"wait_s", 30}}).park);
  CHECK(claim(other_worker, {{"wait_s", 30}}).park);
  CHECK(f.state(id) == "queued");

  SECTION("a claim without wait_s always asks") {
    CHECK(claim(worker, json::object()).reply.status == 200);
    CHECK(f.state(id) == "working");
  }
  SECTION("another filter asks") {
    auto asks = claim(worker, {{"wait_s", 30}, {"queues", {"elsewhere"}}});
    CHECK(asks.park);  // nothing there, but it asked: the task is still queued
    CHECK(claim(worker, {{"wait_s", 30}, {"queues", {"default"}}}).reply.status == 200);
    CHECK(f.state(id) == "working");
  }
  SECTION("after a change the long-poll asks again") {
    memory.changed();
    auto asks = claim(worker, {{"wait_s", 30}});
    CHECK_FALSE(asks.park);
    CHECK(asks.reply.status == 200);
    CHECK(f.state(id) == "working");
  }
}
