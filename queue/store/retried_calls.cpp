// Retried holder calls (docs/api.md, "Retries"): a worker whose submit's
// answer was lost (its server died after the commit, the connection dropped)
// sends the same call again, maybe to another server. The guarded statement
// then changes nothing, because the claim it names has ended; instead of a
// stale_token that would tell the runner its accepted work was lost, the
// store finds the event the first call wrote and answers the same success.
#include <agentq/sql.hpp>

#include "store/store_impl.hpp"

namespace agentq::store_detail {

std::optional<landed_call> find_landed_call(pqxx::transaction_base& tx, std::int64_t task_id,
                                            std::int64_t token, std::int64_t agent_id,
                                            const std::string& kind) {
  auto rows = run(tx, sql::claims_landed_call, task_id, token, kind);
  if (rows.empty() || rows[0]["agent_id"].as<std::int64_t>() != agent_id) return std::nullopt;
  return landed_call{rows[0]["to_state"].c_str(), as_json(rows[0]["detail"]),
                     as_json(rows[0]["task"])};
}

}  // namespace agentq::store_detail
