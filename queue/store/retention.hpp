#pragma once
// What store::delete_finished_tasks() (store/retention.cpp) is told and what
// it answers: one batch of retention (docs/design.md "Retention").

#include <cstdint>
#include <optional>

namespace agentq {

struct retention_policy {
  // Done, failed and cancelled tasks that finished longer ago than this go,
  // with every row that belongs to them.
  std::int64_t finished_age_s = 30LL * 86400;
  // Tasks with entries in the disagreement log: nullopt keeps them (and
  // their entries) for ever; else they go once older than both ages.
  std::optional<std::int64_t> disagreement_age_s;
  int batch = 500;                 // most tasks per transaction
  int lock_timeout_ms = 200;       // a row someone holds: give up, try next run
  int statement_timeout_ms = 10000;
};

struct retention_batch {
  int tasks = 0;           // tasks deleted
  std::int64_t events = 0;  // their events, deleted with them
  // The batch gave up (a row stayed locked past lock_timeout, or it ran
  // past statement_timeout) and rolled back: try again on the next run.
  bool gave_up = false;
};

}  // namespace agentq
