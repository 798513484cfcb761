#pragma once
// Inside the store only (queue/store/*.cpp): the connection a store owns, the
// prepared-statement runner and the translation of libpqxx failures into
// agentq::database_unavailable. Nothing outside queue/store/ may include
// this or any pqxx header (cmake/enforce_layers.cmake stops the build).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "store/store.hpp"

namespace agentq {

struct store::impl {
  explicit impl(const std::string& database_url) : url(database_url), conn(database_url) {}

  std::string url;  // for connections of their own (the merge lock)
  pqxx::connection conn;
  std::optional<std::string> now;  // set_clock()
};

namespace store_detail {

// Every named query runs as a prepared statement of its connection: parsed
// and planned once per connection, not once per call (bench/: a claim+submit
// cycle through exec_params ran at about a quarter of pgbench -M prepared).
// The statement is named after its constant's address; libpqxx prepares it
// on first use, again after a reconnect, and ignores a repeated prepare().
template <typename... Args>
pqxx::result run(pqxx::transaction_base& tx, std::string_view query, Args&&... args) {
  const std::string name = "aq_" + std::to_string(reinterpret_cast<std::uintptr_t>(query.data()));
  tx.conn().prepare(name, std::string(query));
  return tx.exec_prepared(name, std::forward<Args>(args)...);
}

// A claim over every queue runs its cached generic plan (the one plan that
// statement has: both searches walk their partial index in claim order).
// Left to itself, PostgreSQL re-plans it on every call once the table holds
// many finished tasks (its generic estimate of `limit $n` grows with the
// table), and planning it costs about as much as running it: ~0.9 ms of a
// claim with 1,000,000 finished tasks (docs/benchmarks-profile.md). A claim
// filtered by queue keeps custom plans, which may pick a queue's own index.
inline void prefer_generic_plan(pqxx::transaction_base& tx) {
  tx.exec("set local plan_cache_mode = force_generic_plan");
}

inline nlohmann::json as_json(const pqxx::field& field) {
  if (field.is_null()) return nullptr;
  return nlohmann::json::parse(field.c_str());
}

// Whether a statement's error means the connection, not the statement,
// failed: SQLSTATE class 08 (connection exception), 57P01..57P03 (the server
// shuts down or cannot take connections now), class 53 (insufficient
// resources: too many connections, out of memory or disk).
bool is_connection_failure(const pqxx::sql_error& error);

// Call inside a catch block: rethrows the exception being handled, turning
// pqxx::failure into database_unavailable (anything else passes unchanged).
// Every store entry point ends in `catch (...) { rethrow_as_unavailable(); }`.
[[noreturn]] void rethrow_as_unavailable();

// A holder's call with `token` that already landed (store/retried_calls.cpp):
// the event it wrote (kind: submitted, released, rejected) when `agent` held
// that claim, for a retry to answer the same success; nullopt otherwise.
struct landed_call {
  std::string to_state;
  nlohmann::json detail;
  nlohmann::json task;  // as it is now
};
std::optional<landed_call> find_landed_call(pqxx::transaction_base& tx, std::int64_t task_id,
                                            std::int64_t token, std::int64_t agent_id,
                                            const std::string& kind);

// A claim statement's row as the contract's claim answer (store/claim_batch.cpp).
claim_grant claim_grant_of(const pqxx::row& row, const agent_identity& agent, int lease_s,
                           int first_lease_s);

// After a claim statement (single or batched), in its transaction: closes as
// 'expired' the claims its rows took over (their `old_token`) that the
// statement's own snapshot could not see (sql/queries/claims_close_taken_over.sql).
void close_taken_over_claims(pqxx::transaction_base& tx, const pqxx::result& claimed,
                             const std::optional<std::string>& now);

}  // namespace store_detail
}  // namespace agentq
