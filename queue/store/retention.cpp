// store::delete_finished_tasks(): one batch of retention (store/retention.hpp,
// sql/queries/tasks_delete_finished.sql, docs/design.md "Retention").
#include <agentq/sql.hpp>

#include "store/store_impl.hpp"

namespace agentq {

using store_detail::rethrow_as_unavailable;
using store_detail::run;

retention_batch store::delete_finished_tasks(const retention_policy& policy) try {
  pqxx::work tx(m_impl->conn);
  // Short locks and short waits: this transaction must never keep a claimer
  // waiting for long, nor wait long behind one (a held row is skipped, a
  // held child row makes it give up).
  run(tx, sql::retention_begin, policy.lock_timeout_ms, policy.statement_timeout_ms);
  const auto row = run(tx, sql::tasks_delete_finished, policy.finished_age_s,
                       policy.disagreement_age_s, policy.batch, m_impl->now)[0];
  retention_batch batch;
  batch.tasks = row["tasks"].as<int>();
  batch.events = row["events"].as<std::int64_t>();
  tx.commit();
  return batch;
} catch (const pqxx::sql_error& e) {
  // lock_not_available (lock_timeout), query_canceled (statement_timeout):
  // the batch rolled back; nothing is wrong, the next run tries again.
  if (e.sqlstate() == "55P03" || e.sqlstate() == "57014") return retention_batch{0, 0, true};
  rethrow_as_unavailable();
} catch (...) {
  rethrow_as_unavailable();
}

}  // namespace agentq
