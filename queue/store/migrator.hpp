#pragma once
// Forward-only migrations from sql/migrations/, embedded at build time.
// `agentq migrate` applies the ones a database lacks, all in one transaction
// under an advisory lock: two processes migrating at once take turns, the
// second applies nothing, and a failed migration leaves no half schema.

#include <optional>
#include <string>
#include <vector>

#include <pqxx/connection>

namespace agentq {

struct migration_report {
  std::vector<std::string> applied;  // names, in order; empty: up to date
  int version = 0;                   // the schema version afterwards
};

migration_report migrate(pqxx::connection& conn);

// The newest migration this build knows.
int latest_schema_version();

// The version a database is at; nullopt if agentq never migrated it.
std::optional<int> current_schema_version(pqxx::connection& conn);

}  // namespace agentq
