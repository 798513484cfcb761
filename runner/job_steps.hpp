#pragma once
// What every job does with a claim besides its own work, so that each
// program's job file holds only what is its own: the results a job ends in,
// the release, the ends of a command that mean the same for every job (lost
// lease, timeout, shutdown), the final call's reply, and the frame around
// the command (check out, write the task file, run, remove the checkout).
// A job ends in exactly one final call, or none when the lease was lost
// (the server has moved on; anything sent would be refused).

#include <functional>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "runner/agent_health.hpp"
#include "runner/claim_session.hpp"

namespace agentq::runner {

enum class job_result {
  submitted,  // the claim's work was submitted
  approved,   // the verdict approved the submission
  rejected,   // the verdict rejected the submission
  released,   // given back for another attempt
  lost,       // the claim was lost; nothing was pushed or sent
  failed      // the final call itself failed (see the log)
};

const char* to_string(job_result result);

// How a job speaks of itself in the reasons it gives back and in its log.
struct job_words {
  std::string runner;     // the runner's role: "<runner> stopping", "<runner> error"
  std::string command;    // what it runs: "timeout: <command> ran longer than …"
  std::string abandoned;  // what a lost lease left undone, a log field: "pushed=nothing"
};

// Sends release {retry: true, reason} and logs the outcome.
// charge_attempt false: {charge_attempt: false} (the runner's fault).
job_result release_claim(claim_session& session, const std::string& reason,
                         bool charge_attempt = true);

// The command failed before doing any work (runner/agent_health.hpp): counts
// the fault, says so once when the runner turns unhealthy (the log and the
// server), and releases with `reason`. charge_attempt false: the task's
// attempt is given back (a worker's claim; a review has no attempts).
job_result release_for_fault(const job_context& ctx, claim_session& session,
                             const agent_fault& fault, const std::string& reason,
                             bool charge_attempt);

// The command did not fault (it did some work, or failed after trying):
// the runner is healthy (again).
void note_agent_ran(const job_context& ctx);

// The lease is gone: logs what was left undone and sends nothing.
job_result abandon(claim_session& session, const job_words& words);

// The ends of a command that are the same for every job: a lost lease
// (abandon), a timeout or the runner's shutdown (release with the reason).
// Nothing when the command ended by itself: then the job decides.
std::optional<job_result> end_of_command(const job_context& ctx, claim_session& session,
                                         const command_result& ran, const job_words& words);

// `reason` with "; last output: <line>" when the command printed anything.
std::string with_last_output(std::string reason, const command_result& ran);

// The final call (`call` names it: "submit" logs submit_refused, …) and
// what its reply means. Nothing is sent once the lease is lost. Heartbeats go
// on while the call is in flight and stop when it is answered: a submit may
// wait on the server longer than the lease (its branch check queues behind
// other git work for the same remote, such as merges), and the beats keep
// the lease live meanwhile; a beat refused because the call has landed is
// expected, and the call's own answer decides.
// 200: `accepted` reads the answer. 409: the claim is gone (lost).
// Another answer the server did not take: the task is released with the
// error as the reason. No answer at all: failed.
job_result final_call(claim_session& session, const std::string& call,
                      const std::function<holder_reply(queue_api&)>& send,
                      const std::function<job_result(const nlohmann::json& body)>& accepted);

// One job's frame around its command.
struct job_plan {
  job_words words;
  std::string fetch_phase;       // the heartbeat's progress while checking out
  std::function<checkout()> prepare;
  std::string checkout_failure;  // the release reason's start when prepare throws
  std::function<nlohmann::json(const checkout&)> task_file;
  std::string run_phase;         // the heartbeat's progress before the command prints
  std::function<job_result(const checkout&, const command_result&)> finish;
};

// Checks out (an unreachable repository or a failed checkout releases the
// claim), writes the task file, runs the command in the checkout under the
// lease, hands its end to plan.finish, and removes the checkout whatever
// happened. An exception from the command or from finish releases the claim.
job_result run_in_checkout(claim_session& session, const job_context& ctx, const job_plan& plan);

}  // namespace agentq::runner
