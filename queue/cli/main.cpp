// agentq: the server and the admin CLI. (issue 3 grows this into every
// command of CONTRACT §2; for now: migrate.)
#include <cstdlib>
#include <iostream>
#include <string>

#include <pqxx/connection>

#include "store/migrator.hpp"

namespace {

const char* usage = R"(agentq — a PostgreSQL-backed task queue for teams of coding agents

Usage:
  agentq migrate      apply the schema in sql/migrations to the database

Environment:
  AGENTQ_DATABASE_URL  libpq connection string or URI (default postgresql:///agentq)
)";

std::string database_url() {
  const char* url = std::getenv("AGENTQ_DATABASE_URL");
  return url && *url ? url : "postgresql:///agentq";
}

}  // namespace

int main(int argc, char** argv) {
  std::string command = argc > 1 ? argv[1] : "--help";
  if (command == "--help" || command == "-h" || command == "help") {
    std::cout << usage;
    return 0;
  }
  if (command == "migrate") {
    try {
      pqxx::connection conn(database_url());
      auto report = agentq::migrate(conn);
      for (const auto& name : report.applied) std::cout << "applied " << name << "\n";
      std::cout << "schema at version " << report.version << "\n";
      return 0;
    } catch (const std::exception& e) {
      std::cerr << "agentq migrate: " << e.what() << "\n";
      return 1;
    }
  }
  std::cerr << "agentq: unknown command '" << command << "'; see agentq --help\n";
  return 2;
}
