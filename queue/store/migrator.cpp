#include "store/migrator.hpp"

#include <set>

#include <pqxx/pqxx>

#include <agentq/sql.hpp>

namespace agentq {

migration_report migrate(pqxx::connection& conn) {
  pqxx::work tx(conn);
  tx.exec(std::string(sql::migrations_lock));
  tx.exec(std::string(sql::migrations_create_table));
  std::set<int> applied;
  for (const auto& row : tx.exec(std::string(sql::migrations_applied)))
    applied.insert(row[0].as<int>());

  migration_report report;
  for (const auto& migration : sql::migrations) {
    if (applied.count(migration.version)) continue;
    tx.exec(std::string(migration.text));
    tx.exec_params(std::string(sql::migrations_record), migration.version,
                   std::string(migration.name));
    report.applied.emplace_back(migration.name);
  }
  tx.commit();
  report.version = latest_schema_version();
  return report;
}

int latest_schema_version() { return sql::migrations.back().version; }

std::optional<int> current_schema_version(pqxx::connection& conn) {
  pqxx::read_transaction tx(conn);
  if (!tx.exec(std::string(sql::migrations_table_exists))[0][0].as<bool>()) return std::nullopt;
  auto rows = tx.exec(std::string(sql::migrations_current_version));
  if (rows.empty() || rows[0][0].is_null()) return std::nullopt;
  return rows[0][0].as<int>();
}

}  // namespace agentq
