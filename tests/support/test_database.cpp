#include "support/test_database.hpp"

#include <atomic>
#include <cstdlib>
#include <mutex>
#include <stdexcept>

#include <unistd.h>

#include <pqxx/connection>
#include <pqxx/nontransaction>

#include "store/database_url.hpp"
#include "store/migrator.hpp"

namespace agentq::testing {
namespace {

std::atomic<int> next_database{0};

void exec_on_server(const std::string& statement) {
  pqxx::connection conn(url_for_database(server_url(), "postgres"));
  pqxx::nontransaction tx(conn);
  tx.exec(statement);
}

// One migrated template per test process, made on first use and dropped at
// exit, so parallel test processes never touch each other's template.
const std::string& template_name() {
  static std::once_flag once;
  static std::string name = "agentq_tpl_" + std::to_string(getpid());
  std::call_once(once, [] {
    exec_on_server("drop database if exists " + name);
    exec_on_server("create database " + name);
    migrate_database(url_for_database(server_url(), name));
    std::atexit([] {
      try {
        exec_on_server("drop database if exists " + name + " with (force)");
      } catch (...) {
      }
    });
  });
  return name;
}

}  // namespace

std::string server_url() {
  const char* url = std::getenv("AGENTQ_TEST_DATABASE_URL");
  if (!url || !*url)
    throw std::runtime_error(
        "AGENTQ_TEST_DATABASE_URL is not set: run the tests with scripts/test, which starts a "
        "throwaway PostgreSQL, or point it at a server where you may CREATE DATABASE");
  return url;
}

std::string url_for_database(const std::string& server, const std::string& dbname) {
  try {
    return with_database(server, dbname);
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error(std::string("AGENTQ_TEST_DATABASE_URL: ") + e.what());
  }
}

test_database::test_database() : test_database(true) {}

test_database::test_database(bool migrated) {
  m_name = "agentq_t_" + std::to_string(getpid()) + "_" + std::to_string(next_database++);
  exec_on_server("drop database if exists " + m_name + " with (force)");
  if (migrated)
    exec_on_server("create database " + m_name + " template " + template_name());
  else
    exec_on_server("create database " + m_name);
  m_url = url_for_database(server_url(), m_name);
}

test_database test_database::empty() { return test_database(false); }

test_database::~test_database() {
  try {
    exec_on_server("drop database if exists " + m_name + " with (force)");
  } catch (...) {
    // A test server that went away takes its databases with it.
  }
}

std::string unreachable_database_url() {
  return "host=/tmp/agentq-no-server-" + std::to_string(getpid()) +
         " dbname=agentq connect_timeout=2";
}

}  // namespace agentq::testing
