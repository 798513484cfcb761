// The per-repository merge lock (store/repo_merge_lock.hpp): one holder at a
// time across connections (two stores stand for two servers), released when
// the guard ends, and per repository.
#include <atomic>
#include <chrono>
#include <optional>
#include <thread>

#include <catch2/catch.hpp>
#include <pqxx/pqxx>

#include "support/queue_fixture.hpp"

using namespace agentq;
using namespace agentq::testing;
using namespace std::chrono_literals;

namespace {

std::int64_t repo_id(pqxx::connection& conn, const std::string& name) {
  pqxx::read_transaction tx(conn);
  return tx.exec_params1("select id from repos where name = $1", name)[0].as<std::int64_t>();
}

// The merge lock's rows in pg_locks for a repository: granted or waiting.
int merge_locks(pqxx::connection& conn, std::int64_t repo, bool granted) {
  pqxx::nontransaction tx(conn);
  return tx.exec_params1(
               "select count(*) from pg_locks where locktype = 'advisory' and classid = 7420002 "
               "and objid = $1 and granted = $2 and database = "
               "(select oid from pg_database where datname = current_database())",
               repo, granted)[0]
      .as<int>();
}

template <typename F>
bool eventually(F done) {
  for (int i = 0; i < 2000; ++i) {
    if (done()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return false;
}

}  // namespace

TEST_CASE("the merge lock excludes a second holder until the first guard ends",
          "[merge-lock][concurrency]") {
  queue_fixture f;
  const auto demo = repo_id(f.sql, "demo");
  store first_server(f.db.url());
  store second_server(f.db.url());

  std::optional<repo_merge_lock> held = first_server.lock_repo_for_merge(demo);
  CHECK(held->held());
  CHECK(held->repo_id() == demo);
  CHECK(merge_locks(f.sql, demo, true) == 1);

  // The guard moves; the lock stays held by whoever holds the guard.
  repo_merge_lock moved = std::move(*held);
  held.reset();
  CHECK(moved.held());
  CHECK(merge_locks(f.sql, demo, true) == 1);

  std::atomic<bool> second_has_it{false};
  std::thread second([&] {
    auto lock = second_server.lock_repo_for_merge(demo);
    second_has_it = true;
    std::this_thread::sleep_for(20ms);
  });  // the second guard ends with its thread
  // The second holder queues behind the first (seen waiting in pg_locks) and
  // does not get the lock while the first guard lives.
  REQUIRE(eventually([&] { return merge_locks(f.sql, demo, false) == 1; }));
  std::this_thread::sleep_for(100ms);
  CHECK_FALSE(second_has_it.load());

  // Another repository's lock is independent.
  REQUIRE(f.queue.add_repo(new_repo{"other", "/tmp/agentq-other.git", "main"}));
  const auto other = repo_id(f.sql, "other");
  // (statement_timeout: a lock that wrongly waited fails instead of hanging)
  store bounded(f.db.url() + " options='-c statement_timeout=5s'");
  CHECK_NOTHROW(bounded.lock_repo_for_merge(other));

  { repo_merge_lock ending = std::move(moved); }  // the guard's destructor releases it
  second.join();
  CHECK(second_has_it.load());
  CHECK(merge_locks(f.sql, demo, true) == 0);
  CHECK(merge_locks(f.sql, demo, false) == 0);
}

TEST_CASE("release() gives the merge lock back before the guard ends", "[merge-lock]") {
  queue_fixture f;
  const auto demo = repo_id(f.sql, "demo");
  auto lock = f.queue.lock_repo_for_merge(demo);
  REQUIRE(merge_locks(f.sql, demo, true) == 1);
  lock.release();
  CHECK_FALSE(lock.held());
  CHECK(merge_locks(f.sql, demo, true) == 0);
  // Taken again at once, from another server.
  store another(f.db.url());
  auto again = another.lock_repo_for_merge(demo);
  CHECK(merge_locks(f.sql, demo, true) == 1);
}
