// Runner health (issue 15; docs/api.md "Runner health"): the health a runner
// reports. (A release that is the runner's fault is store::release with
// charge_attempt false.)
#include <agentq/sql.hpp>

#include "store/store.hpp"
#include "store/store_impl.hpp"

namespace agentq {

using nlohmann::json;
using store_detail::as_json;
using store_detail::rethrow_as_unavailable;
using store_detail::run;

outcome<json> store::set_runner_status(const agent_identity& agent,
                                       const runner_status_request& request) try {
  pqxx::work tx(m_impl->conn);
  auto rows = run(tx, sql::agents_set_runner_status, agent.id, request.status, request.reason);
  if (rows.empty()) return refuse(error_code::not_found, "no active agent named '" + agent.name + "'");
  tx.commit();
  return as_json(rows[0][0]);
} catch (...) {
  rethrow_as_unavailable();
}

}  // namespace agentq
