#pragma once
// Database tests get a database of their own: a fresh clone of a template that
// is migrated once per test process, dropped when the test ends. Nothing is
// shared between test cases.
//
// The server comes from AGENTQ_TEST_DATABASE_URL (a libpq URI or key=value
// string for a role that may CREATE DATABASE). scripts/test starts a
// throwaway PostgreSQL and sets it; see README.md to use your own.

#include <string>

namespace agentq::testing {

// AGENTQ_TEST_DATABASE_URL, or a clear failure saying how to set it.
std::string server_url();

// A database URL whose socket directory has no server in it: every
// connection attempt fails at once.
std::string unreachable_database_url();

// The same connection parameters with another database name.
std::string url_for_database(const std::string& server_url, const std::string& dbname);

class test_database {
 public:
  test_database();
  ~test_database();
  test_database(const test_database&) = delete;
  test_database& operator=(const test_database&) = delete;

  const std::string& url() const { return m_url; }
  const std::string& name() const { return m_name; }

  // A database of the same kind with no schema at all, for migration tests.
  static test_database empty();

 private:
  explicit test_database(bool migrated);
  std::string m_name;
  std::string m_url;
};

}  // namespace agentq::testing
