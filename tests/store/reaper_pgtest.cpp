// The reaper: expired claims go back to their queue, once, whoever races it.
#include <atomic>
#include <map>
#include <thread>

#include <catch2/catch.hpp>
#include <pqxx/pqxx>

#include "services/reaper.hpp"
#include "support/queue_fixture.hpp"

using namespace agentq;
using namespace agentq::testing;

namespace {

int count(pqxx::connection& conn, const std::string& query) {
  pqxx::read_transaction tx(conn);
  return tx.exec(query)[0][0].as<int>();
}

// n tasks, all claimed by worker-1 at T0 with the given lease; answers the grants.
std::vector<claim_grant> claimed_tasks(queue_fixture& f, int n, int lease_s) {
  f.add_many(n, at(0));
  auto grants = f.queue.claim(f.worker1, {}, lease_s, n);
  REQUIRE(static_cast<int>(grants.size()) == n);
  return grants;
}

}  // namespace

TEST_CASE("the reaper returns expired work to its queue and fails used-up attempts", "[reaper]") {
  queue_fixture f;
  auto reviewed = f.add();
  auto review = f.to_review(reviewed, f.worker2, f.reviewer1);
  auto retry = f.add();
  auto last_try = f.add({{"max_attempts", 1}});
  f.claim_one(f.worker1, 30);
  f.claim_one(f.worker1, 30);

  f.queue.set_clock(at(20));
  CHECK(f.queue.reap_expired(100) == 0);  // nothing has run out yet
  f.queue.set_clock(at(61));
  CHECK(f.queue.reap_expired(100) == 3);
  CHECK(f.state(retry) == "queued");
  CHECK(f.state(last_try) == "failed");
  CHECK(f.state(reviewed) == "awaiting_review");
  CHECK(f.queue.reap_expired(100) == 0);  // once only

  auto task = f.queue.get_task(reviewed);
  auto events = (*task)["events"];
  auto last = events.back();
  CHECK(last["kind"] == "lease_expired");
  CHECK(last["actor"] == "reaper");
  CHECK(last["token"] == review.token);
  CHECK(last["from_state"] == "reviewing");
  CHECK(last["to_state"] == "awaiting_review");
  CHECK((*task)["claims"].back()["outcome"] == "expired");
}

TEST_CASE("the reaper service's run_once reaps the whole backlog in batches", "[reaper]") {
  queue_fixture f;
  claimed_tasks(f, 25, 10);
  // The service uses the database clock: move the leases into the past.
  {
    pqxx::work tx(f.sql);
    tx.exec("update tasks set lease_expires_at = now() - interval '1 second' "
            "where state = 'working'");
    tx.commit();
  }
  reaper service(f.db.url(), reaper_config{std::chrono::milliseconds(10), 7, {}});
  CHECK(service.run_once() == 25);
  CHECK(count(f.sql, "select count(*) from tasks where state = 'queued'") == 25);
}

TEST_CASE("two reapers at once return every expired task exactly once", "[reaper][concurrency]") {
  queue_fixture f;
  constexpr int n = 400;
  claimed_tasks(f, n, 10);
  std::atomic<int> total{0}, errors{0};
  auto reap = [&] {
    try {
      store own(f.db.url());
      own.set_clock(at(11));
      for (int reaped; (reaped = own.reap_expired(25)) > 0;) total += reaped;
    } catch (...) {
      ++errors;
    }
  };
  std::thread a(reap), b(reap);
  a.join();
  b.join();
  CHECK(errors == 0);
  CHECK(total == n);
  CHECK(count(f.sql, "select count(*) from tasks where state = 'queued'") == n);
  CHECK(count(f.sql, "select count(*) from events where kind = 'lease_expired'") == n);
  CHECK(count(f.sql, "select count(*) from claims where outcome = 'expired'") == n);
  CHECK(f.queue.check_invariants().empty());
}

TEST_CASE("a reaper racing heartbeats and claims: no task has two live claims and no live "
          "heartbeat is reaped",
          "[reaper][concurrency]") {
  queue_fixture f;
  constexpr int n = 300;
  auto grants = claimed_tasks(f, n, 10);

  std::map<std::int64_t, bool> heartbeat_ok;  // task -> did worker-1's heartbeat land
  std::atomic<int> errors{0};
  // Worker-1 heartbeats just before expiry (its clock: 9.9 s), while a reaper
  // and worker-2's claims run at 10 s, when un-extended leases are expired.
  std::thread heartbeater([&] {
    try {
      store own(f.db.url());
      own.set_clock(at(9.9));
      for (const auto& g : grants)
        heartbeat_ok[g.task_id] = own.heartbeat(g.task_id, {g.token, std::nullopt}, f.worker1).ok();
    } catch (...) {
      ++errors;
    }
  });
  std::thread reaping([&] {
    try {
      store own(f.db.url());
      own.set_clock(at(10));
      for (int i = 0; i < 50; ++i) own.reap_expired(10);
    } catch (...) {
      ++errors;
    }
  });
  std::thread claimer([&] {
    try {
      store own(f.db.url());
      own.set_clock(at(10));
      for (int i = 0; i < 100; ++i) own.claim(f.worker2, {}, 60, 3);
    } catch (...) {
      ++errors;
    }
  });
  heartbeater.join();
  reaping.join();
  claimer.join();
  REQUIRE(errors == 0);

  pqxx::read_transaction tx(f.sql);
  // At most one live claim per task, and it is the task's current token.
  CHECK(tx.exec("select count(*) from (select task_id from claims where ended_at is null "
                "group by task_id having count(*) > 1) x")[0][0].as<int>() == 0);
  CHECK(tx.exec("select count(*) from tasks t where t.claim_token is not null and not exists "
                "(select 1 from claims c where c.token = t.claim_token and c.ended_at is null)")
            [0][0].as<int>() == 0);
  for (const auto& g : grants) {
    auto row = tx.exec_params1("select state, claim_token from tasks where id = $1", g.task_id);
    if (heartbeat_ok[g.task_id]) {
      // An extended lease is nobody else's to take.
      CHECK(std::string(row[0].c_str()) == "working");
      CHECK(row[1].as<std::int64_t>() == g.token);
    } else if (!row[1].is_null()) {
      CHECK(row[1].as<std::int64_t>() > g.token);  // taken over with a higher token
    }
  }
  tx.commit();
  auto problems = f.queue.check_invariants();
  for (const auto& p : problems) UNSCOPED_INFO(p);
  CHECK(problems.empty());
}
