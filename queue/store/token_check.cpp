// The auth cache's refresh (queue/http/auth_cache.hpp): which of the tokens a
// server believes live still are, in one statement.
#include <agentq/sql.hpp>

#include "core/secrets.hpp"
#include "store/store.hpp"
#include "store/store_impl.hpp"

namespace agentq {

using store_detail::rethrow_as_unavailable;
using store_detail::run;

std::map<std::string, agent_identity> store::live_agents_by_token_hash(
    const std::vector<std::string>& token_hashes) try {
  std::map<std::string, agent_identity> live;
  if (token_hashes.empty()) return live;
  pqxx::read_transaction tx(m_impl->conn);
  for (const auto& row : run(tx, sql::agents_live_by_token_hash, to_pg_array(token_hashes)))
    live.emplace(row["token_hash"].c_str(),
                 agent_identity{row["id"].as<std::int64_t>(), row["name"].c_str(),
                                parse_agent_role(row["role"].c_str()).value()});
  return live;
} catch (...) {
  rethrow_as_unavailable();
}

}  // namespace agentq
