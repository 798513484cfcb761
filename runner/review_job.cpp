// The reviewer's job (CONTRACT §7): a work tree at exactly the submitted
// commit, the review command under the lease, then the verdict — exit 0
// approves, exit 1 rejects with the output as the reasons, anything else
// (or a timeout) releases the review for another reviewer.
#include <spdlog/spdlog.h>

#include "runner/jobs.hpp"

namespace agentq::runner {

using nlohmann::json;

namespace {

job_result send_verdict(claim_session& session, bool approve, const std::string& reasons) {
  session.stop_heartbeats();
  if (session.lease_lost()) return job_result::lost;
  auto reply = session.api().review(session.task_id(), session.token(), approve, reasons);
  if (reply.ok()) {
    const json& body = reply.body;
    spdlog::info("event=reviewed task={} token={} verdict={} state={} merge_commit={} reason={}",
                 session.task_id(), session.token(), approve ? "approve" : "reject",
                 body.value("state", std::string("?")),
                 body.contains("merge_commit") && body["merge_commit"].is_string()
                     ? body["merge_commit"].get<std::string>() : std::string("-"),
                 body.value("reason", std::string("-")));
    return approve ? job_result::approved : job_result::rejected;
  }
  if (reply.conflict()) {
    spdlog::error("event=review_refused task={} token={} error=\"{}\"", session.task_id(),
                  session.token(), reply.error);
    return job_result::lost;
  }
  spdlog::error("event=review_failed task={} token={} error=\"{}\"", session.task_id(),
                session.token(), reply.error);
  if (reply.status >= 400) return release_claim(session, "review failed: " + reply.error);
  return job_result::failed;
}

job_result finish_review(const job_context& ctx, claim_session& session, const command_result& ran) {
  using kind = command_result::kind;
  switch (ran.outcome) {
    case kind::lease_lost:
      spdlog::error("event=abandoned task={} token={} reason=\"{}\" verdict=none",
                    session.task_id(), session.token(), session.lease_lost_reason());
      return job_result::lost;
    case kind::timed_out:
      return release_claim(session, "timeout: the review command ran longer than " +
                                        std::to_string(ctx.config.task_timeout.count()) +
                                        "s and was killed");
    case kind::stopped:
      return release_claim(session, "reviewer stopping: the review command was interrupted");
    case kind::exited:
      break;
  }
  if (ran.status.exited && ran.status.code == 0) return send_verdict(session, true, ran.output);
  if (ran.status.exited && ran.status.code == 1) {
    std::string reasons = ran.output;
    if (reasons.find_first_not_of(" \t\r\n") == std::string::npos)
      reasons = "the review command rejected the submission (exit 1) without saying why";
    return send_verdict(session, false, reasons);
  }
  std::string reason = "review command failed: it ended with " + ran.status.describe();
  if (!ran.last_line.empty()) reason += "; last output: " + ran.last_line;
  return release_claim(session, reason);
}

}  // namespace

job_result run_review_job(const job_context& ctx, const json& answer,
                          lease_clock::time_point claimed_at) {
  claim_session session(ctx, answer, claimed_at);
  repo_info repo = session.repo();
  const json submission = answer.value("submission", json::object());
  std::string branch = submission.is_object() ? submission.value("branch", std::string()) : "";
  std::string commit = submission.is_object() ? submission.value("commit", std::string()) : "";
  spdlog::info("event=claimed task={} token={} repo={} branch={} commit={} worker={}",
               session.task_id(), session.token(), repo.name, branch, commit,
               submission.is_object() ? submission.value("worker", std::string("?")) : "?");

  session.set_phase("fetching " + branch);
  checkout co;
  try {
    co = ctx.workspace.prepare_review(repo, session.task_id(), session.token(), branch, commit);
  } catch (const git_unreachable& e) {
    spdlog::error("event=repo_unreachable task={} repo={} error=\"{}\"", session.task_id(),
                  repo.name, e.what());
    return release_claim(session, std::string("repository unreachable: ") + e.what());
  } catch (const std::exception& e) {
    spdlog::error("event=checkout_failed task={} repo={} error=\"{}\"", session.task_id(),
                  repo.name, e.what());
    return release_claim(session, std::string("cannot check out the submission: ") + e.what());
  }

  json task_file = answer;
  task_file["token"] = session.token();
  task_file["checkout"] = co.dir.string();
  try {
    task_file["diff_stats"] = ctx.workspace.diff_stats(co);
  } catch (const std::exception& e) {
    spdlog::warn("event=diff_stats_failed task={} error=\"{}\"", session.task_id(), e.what());
  }

  job_result result = job_result::failed;
  try {
    session.set_phase("running the review");
    command_result ran = session.run_command(co.dir, task_file);
    result = finish_review(ctx, session, ran);
  } catch (const std::exception& e) {
    spdlog::error("event=job_failed task={} error=\"{}\"", session.task_id(), e.what());
    result = release_claim(session, std::string("reviewer error: ") + e.what());
  }
  ctx.workspace.remove(co);
  return result;
}

}  // namespace agentq::runner
