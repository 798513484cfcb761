#pragma once
// Forward-only migrations from sql/migrations/, embedded at build time.
// `agentq migrate` applies the ones a database lacks, all in one transaction
// under an advisory lock: two processes migrating at once take turns, the
// second applies nothing, and a failed migration leaves no half schema.
// The version a database is at: store::schema_version().

#include <string>
#include <vector>

namespace agentq {

struct migration_report {
  std::vector<std::string> applied;  // names, in order; empty: up to date
  int version = 0;                   // the schema version afterwards
};

// Connects to `database_url` and migrates it. Throws database_unavailable
// when the database cannot be reached or a migration fails (nothing applied).
migration_report migrate_database(const std::string& database_url);

// The newest migration this build knows.
int latest_schema_version();

}  // namespace agentq
