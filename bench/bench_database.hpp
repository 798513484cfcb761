#pragma once
// Each row of the bench runs in a database of its own: a clone of a template
// migrated once per bench process, dropped when the row is done, so no row
// sees another's tasks, events or dead tuples. (tests/support/test_database
// does the same for tests, but links Catch2's main; this is the bench's own.)

#include <cstdint>
#include <string>

#include "store/store.hpp"

namespace agentq::bench {

// The same connection parameters with another database name.
std::string url_for_database(const std::string& server_url, const std::string& dbname);

class bench_template {
 public:
  explicit bench_template(std::string server_url);
  ~bench_template();
  bench_template(const bench_template&) = delete;
  bench_template& operator=(const bench_template&) = delete;

  const std::string& server_url() const { return m_server_url; }
  const std::string& name() const { return m_name; }

 private:
  std::string m_server_url;
  std::string m_name;
};

// A fresh migrated database with one repository and one worker agent.
class bench_database {
 public:
  // repo_url: where the repository "bench" lives (the HTTP rows' submit
  // check reads it; the other rows never look).
  explicit bench_database(const bench_template& from,
                          const std::string& repo_url = "/tmp/agentq-bench.git");
  ~bench_database();
  bench_database(const bench_database&) = delete;
  bench_database& operator=(const bench_database&) = delete;

  const std::string& url() const { return m_url; }
  const agent_identity& worker() const { return m_worker; }
  const std::string& worker_token() const { return m_worker_token; }
  const std::string& repo_name() const { return m_repo_name; }

  // Bulk loads (one statement each) and the statistics after them.
  void load_queued(int count);
  void load_finished(int count);
  void vacuum_analyze();
  // Writes the load's dirty pages out before a row measures (CHECKPOINT), so
  // a row does not pay for its own setup's writes. Answers "" when done, or
  // why not (CHECKPOINT needs a superuser or pg_checkpoint) for the row's note.
  std::string checkpoint();
  std::int64_t count_in_state(const std::string& state);

 private:
  std::string m_server_url;
  std::string m_name;
  std::string m_url;
  agent_identity m_worker;
  std::string m_worker_token;
  std::string m_repo_name = "bench";
};

// Runs one statement on the server's maintenance database.
void exec_on_server(const std::string& server_url, const std::string& statement);

}  // namespace agentq::bench
