#pragma once
// The worker's job (docs/api.md §6): a work tree on a fresh branch from the
// base branch, the agent command under the lease, then commit, push exactly
// the claim's branch, and submit — or release with the reason.

#include <nlohmann/json.hpp>

#include "runner/claim_session.hpp"
#include "runner/job_steps.hpp"

namespace agentq::worker {

runner::job_result run_work_job(const runner::job_context& ctx, const nlohmann::json& answer,
                                runner::lease_clock::time_point claimed_at);

}  // namespace agentq::worker
