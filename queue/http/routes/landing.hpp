#pragma once
// Landing an approved merge (a reviewer's approval or a person's override):
// the git step that runs the merger, and the answer it gives — done with the
// merge commit, or queued again on a conflict.

#include <cstdint>

#include "http/routes/route.hpp"

namespace agentq {

// Sets ctx.result.git to land merge `merge_id` of task `task_id`; without a
// merger (a handler in tests) answers at once that the merge is pending.
http_reply land_merge(route_context& ctx, std::int64_t task_id, std::int64_t merge_id);

}  // namespace agentq
