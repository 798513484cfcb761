#include "store/migrator.hpp"

#include <set>

#include <agentq/sql.hpp>

#include "store/store_impl.hpp"

namespace agentq {

using store_detail::rethrow_as_unavailable;

migration_report migrate_database(const std::string& database_url) try {
  pqxx::connection conn(database_url);
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
} catch (...) {
  rethrow_as_unavailable();
}

int latest_schema_version() { return sql::migrations.back().version; }

std::optional<int> store::schema_version() try {
  pqxx::read_transaction tx(m_impl->conn);
  if (!tx.exec(std::string(sql::migrations_table_exists))[0][0].as<bool>()) return std::nullopt;
  auto rows = tx.exec(std::string(sql::migrations_current_version));
  if (rows.empty() || rows[0][0].is_null()) return std::nullopt;
  return rows[0][0].as<int>();
} catch (...) {
  rethrow_as_unavailable();
}

}  // namespace agentq
