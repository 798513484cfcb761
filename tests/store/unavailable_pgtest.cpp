// The store's one exception: every entry point turns a libpqxx failure into
// agentq::database_unavailable, the connection's own failures marked as such
// (the server drops the connection and answers 503).
#include <cstdlib>
#include <string>

#include <unistd.h>

#include <catch2/catch.hpp>
#include <pqxx/pqxx>

#include "store/migrator.hpp"
#include "support/queue_fixture.hpp"

using namespace agentq;
using namespace agentq::testing;

TEST_CASE("a store on a database that is not there throws database_unavailable",
          "[unavailable]") {
  setenv("PGCONNECT_TIMEOUT", "2", 1);
  try {
    store nowhere(unreachable_database_url());
    FAIL("connected to a server that does not exist");
  } catch (const database_unavailable& e) {
    CHECK(e.connection_lost());
    CHECK(std::string(e.what()).find("agentq-no-server") != std::string::npos);  // libpq's words
  }
  CHECK_THROWS_AS(migrate_database(unreachable_database_url()), database_unavailable);
}

TEST_CASE("a store whose connection was killed throws database_unavailable with the "
          "connection lost",
          "[unavailable]") {
  queue_fixture f;
  f.add();
  // The server ends every other session of the database, as a restart or a
  // failover does (waiting until they are gone).
  auto kill_sessions = [&] {
    pqxx::work tx(f.sql);
    auto killed = tx.exec("select pg_terminate_backend(pid, 5000) from pg_stat_activity "
                          "where datname = current_database() and pid <> pg_backend_pid()");
    tx.commit();
    REQUIRE(killed.size() >= 1);
  };
  {
    store victim(f.db.url());
    kill_sessions();
    try {
      victim.list_tasks(std::nullopt, std::nullopt, 10, std::nullopt);
      FAIL("a killed connection answered");
    } catch (const database_unavailable& e) {
      CHECK(e.connection_lost());
    }
  }
  // Every kind of entry point, each on a store whose session was just killed.
  auto on_killed_store = [&](auto call) {
    store victim(f.db.url());
    kill_sessions();
    CHECK_THROWS_AS(call(victim), database_unavailable);
  };
  on_killed_store([](store& s) { return s.queue_stats(); });
  on_killed_store([](store& s) { return s.schema_version(); });
  on_killed_store([](store& s) { return s.check_invariants(); });
  on_killed_store([&](store& s) { return s.claim(f.worker1, {}, 60); });
  // A store made anew works: nothing was lost.
  store again(f.db.url());
  CHECK(again.queue_stats().tasks_by_state.at("queued") == 1);
}

TEST_CASE("a statement that fails on a live connection is database_unavailable with its own "
          "message and the connection kept",
          "[unavailable]") {
  queue_fixture f;
  auto id = f.add();
  // The task's row is locked by someone else, and this store gives a
  // statement 200 ms: cancel() waits for the row and runs out of time.
  store impatient(f.db.url() + " options='-c statement_timeout=200'");
  pqxx::work holder(f.sql);
  holder.exec_params("select 1 from tasks where id = $1 for update", id);
  try {
    impatient.cancel(id, "admin", std::nullopt);
    FAIL("cancel did not wait for the locked row");
  } catch (const database_unavailable& e) {
    CHECK_FALSE(e.connection_lost());  // SQLSTATE 57014, not a connection failure
    CHECK(std::string(e.what()).find("statement timeout") != std::string::npos);
  }
  holder.abort();
  // The connection is still good: the same store answers now.
  CHECK(impatient.cancel(id, "admin", std::nullopt));
}
