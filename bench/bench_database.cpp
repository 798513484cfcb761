#include "bench_database.hpp"

#include <atomic>
#include <stdexcept>

#include <unistd.h>

#include <pqxx/pqxx>

#include <bench/bench_sql.hpp>

#include "store/database_url.hpp"
#include "store/migrator.hpp"

namespace agentq::bench {
namespace {

std::atomic<int> next_database{0};

}  // namespace

std::string url_for_database(const std::string& server, const std::string& dbname) {
  try {
    return with_database(server, dbname);
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error(std::string("--database-url: ") + e.what());
  }
}

// CREATE/DROP DATABASE take no parameters; the names are ours (a fixed
// prefix and numbers), never user input.
void exec_on_server(const std::string& server_url, const std::string& statement) {
  pqxx::connection conn(url_for_database(server_url, "postgres"));
  pqxx::nontransaction tx(conn);
  tx.exec(statement);
}

bench_template::bench_template(std::string server_url)
    : m_server_url(std::move(server_url)),
      m_name("agentq_bench_tpl_" + std::to_string(getpid())) {
  exec_on_server(m_server_url, "drop database if exists " + m_name);
  exec_on_server(m_server_url, "create database " + m_name);
  migrate_database(url_for_database(m_server_url, m_name));
}

bench_template::~bench_template() {
  try {
    exec_on_server(m_server_url, "drop database if exists " + m_name + " with (force)");
  } catch (...) {
  }
}

bench_database::bench_database(const bench_template& from, const std::string& repo_url)
    : m_server_url(from.server_url()),
      m_name("agentq_bench_" + std::to_string(getpid()) + "_" +
             std::to_string(next_database++)) {
  exec_on_server(m_server_url, "drop database if exists " + m_name + " with (force)");
  exec_on_server(m_server_url, "create database " + m_name + " template " + from.name());
  m_url = url_for_database(m_server_url, m_name);

  // The repository and the agent go in through the store, like `agentq repo
  // add` and `agentq agent add` put them in.
  store setup(m_url);
  auto repo = setup.add_repo(new_repo{m_repo_name, repo_url, "main"});
  if (!repo) throw std::runtime_error("add_repo: " + repo.error().message);
  auto agent = setup.add_agent(new_agent{"bench-worker", agent_role::worker});
  if (!agent) throw std::runtime_error("add_agent: " + agent.error().message);
  m_worker_token = (*agent)["token"].get<std::string>();
  auto identity = setup.authenticate(m_worker_token);
  if (!identity) throw std::runtime_error("the bench agent does not authenticate");
  m_worker = *identity;
}

bench_database::~bench_database() {
  try {
    exec_on_server(m_server_url, "drop database if exists " + m_name + " with (force)");
  } catch (...) {
  }
}

void bench_database::load_queued(int count) {
  pqxx::connection conn(m_url);
  pqxx::work tx(conn);
  tx.exec_params(std::string(sql::load_queued), m_repo_name, count);
  tx.commit();
}

void bench_database::load_finished(int count) {
  pqxx::connection conn(m_url);
  pqxx::work tx(conn);
  tx.exec_params(std::string(sql::load_finished), m_repo_name, count);
  tx.commit();
}

void bench_database::vacuum_analyze() {
  pqxx::connection conn(m_url);
  pqxx::nontransaction tx(conn);  // VACUUM runs outside a transaction block
  tx.exec(std::string(sql::vacuum_analyze_tasks));
}

std::string bench_database::checkpoint() {
  try {
    pqxx::connection conn(m_url);
    pqxx::nontransaction tx(conn);
    tx.exec(std::string(sql::checkpoint));
    return "";
  } catch (const pqxx::sql_error& e) {
    return std::string("no CHECKPOINT after the load: ") + e.what();
  }
}

std::int64_t bench_database::count_in_state(const std::string& state) {
  pqxx::connection conn(m_url);
  pqxx::read_transaction tx(conn);
  return tx.exec_params(std::string(sql::count_by_state), state)[0][0].as<std::int64_t>();
}

}  // namespace agentq::bench
