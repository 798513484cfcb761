// Migrations: forward-only, a no-op the second time, safe from two processes.
#include <cstdlib>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <pqxx/pqxx>

#include "store/migrator.hpp"
#include "store/store.hpp"
#include "support/test_database.hpp"

using namespace agentq;
using namespace agentq::testing;

TEST_CASE("migrating twice applies everything once", "[migrate]") {
  auto db = test_database::empty();
  store unmigrated(db.url());
  CHECK_FALSE(unmigrated.schema_version());
  auto first = migrate_database(db.url());
  CHECK(first.applied.size() >= 1);
  CHECK(first.version == latest_schema_version());
  auto second = migrate_database(db.url());
  CHECK(second.applied.empty());
  CHECK(unmigrated.schema_version() == latest_schema_version());
}

TEST_CASE("two agentq migrate processes at once: both succeed - each migration applied once",
          "[migrate][concurrency]") {
  auto db = test_database::empty();
  std::vector<pid_t> children;
  for (int i = 0; i < 2; ++i) {
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      setenv("AGENTQ_DATABASE_URL", db.url().c_str(), 1);
      int devnull = ::open("/dev/null", O_WRONLY);
      dup2(devnull, STDOUT_FILENO);
      execl(AGENTQ_BINARY, AGENTQ_BINARY, "migrate", static_cast<char*>(nullptr));
      _exit(127);
    }
    children.push_back(pid);
  }
  for (pid_t pid : children) {
    int status = 0;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
  }
  pqxx::connection conn(db.url());
  pqxx::read_transaction tx(conn);
  CHECK(tx.exec("select count(*) from agentq_migrations")[0][0].as<int>() ==
        latest_schema_version());
  CHECK(tx.exec("select count(*) from agentq_migrations group by version having count(*) > 1")
            .empty());
  CHECK(tx.exec("select to_regclass('tasks') is not null")[0][0].as<bool>());
}

TEST_CASE("the event history and the disagreement log refuse edits", "[migrate]") {
  test_database db;
  pqxx::connection conn(db.url());
  {
    pqxx::work tx(conn);
    tx.exec("insert into repos (name, url) values ('r', '/tmp/r.git')");
    tx.exec("insert into tasks (title, body, repo_id) values ('t', '', (select id from repos))");
    tx.exec("insert into events (task_id, at, kind, actor) values ((select id from tasks), "
            "now(), 'added', 'admin')");
    tx.exec("insert into disagreements (task_id, round, worker, worker_summary, reviewer, "
            "reasons, commit) values ((select id from tasks), 1, 'w', 's', 'r', 'no', 'c')");
    tx.commit();
  }
  for (const char* edit : {"update events set actor = 'someone else'", "delete from events",
                           "update disagreements set reasons = 'softer words'",
                           "delete from disagreements"}) {
    INFO(edit);
    pqxx::work tx(conn);
    CHECK_THROWS_AS(tx.exec(edit), pqxx::sql_error);
  }
}
