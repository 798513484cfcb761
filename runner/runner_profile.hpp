#pragma once
// What makes a runner one program rather than another. Each program's
// main() fills one in and hands it to runner_main(); everything else in
// runner/ is the same for every program.

#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "runner/claim_session.hpp"
#include "runner/job_steps.hpp"

namespace agentq::runner {

// What the program does with one claim answer, on a thread of its own.
// claimed_at: when the claim request was sent (the lease counts from then).
using job_function = std::function<job_result(
    const job_context& ctx, const nlohmann::json& answer, lease_clock::time_point claimed_at)>;

struct runner_profile {
  std::string program;           // the executable's name: logs, errors, release reasons
  std::string usage;             // --help prints it
  std::string command_variable;  // the environment variable --cmd defaults to
  std::string role;              // the role its token must have (GET /v1/whoami, claim.role)
  job_function job;
};

}  // namespace agentq::runner
