#pragma once
// What a runner does with one claim: the worker's job (work, commit, push,
// submit) and the reviewer's job (check out, review, verdict). Both run on
// a claim_session and end in exactly one final call, or none when the lease
// was lost (the server has moved on; anything sent would be refused).

#include <chrono>

#include <nlohmann/json.hpp>

#include "runner/claim_session.hpp"

namespace agentq::runner {

enum class job_result {
  submitted,  // worker: submitted for review
  approved,   // reviewer: approved
  rejected,   // reviewer: rejected
  released,   // released for another attempt / reviewer
  lost,       // the claim was lost; nothing was pushed or sent
  failed      // the final call itself failed (see the log)
};

const char* to_string(job_result result);

job_result run_work_job(const job_context& ctx, const nlohmann::json& answer,
                        lease_clock::time_point claimed_at);
job_result run_review_job(const job_context& ctx, const nlohmann::json& answer,
                          lease_clock::time_point claimed_at);

// Shared by both: sends release {retry: true, reason} and logs the outcome.
job_result release_claim(claim_session& session, const std::string& reason);

}  // namespace agentq::runner
