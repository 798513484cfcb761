#pragma once
// The reviewer's job (docs/api.md §7): a work tree at exactly the submitted
// commit, the review command under the lease, then the verdict — exit 0
// approves, exit 1 rejects with the output as the reasons, anything else
// (or a timeout) releases the review for another reviewer.

#include <nlohmann/json.hpp>

#include "runner/claim_session.hpp"
#include "runner/job_steps.hpp"

namespace agentq::reviewer {

runner::job_result run_review_job(const runner::job_context& ctx, const nlohmann::json& answer,
                                  runner::lease_clock::time_point claimed_at);

}  // namespace agentq::reviewer
