#include "reviewer/review_job.hpp"

#include <spdlog/spdlog.h>

namespace agentq::reviewer {

using nlohmann::json;
using namespace agentq::runner;

namespace {

const job_words words{
    .runner = "reviewer",
    .command = "the review command",
    .abandoned = "verdict=none",
};

job_result send_verdict(claim_session& session, bool approve, const std::string& reasons) {
  return final_call(
      session, "review",
      [&](queue_api& api) {
        return api.review(session.task_id(), session.token(), approve, reasons);
      },
      [&](const json& body) {
        spdlog::info(
            "event=reviewed task={} token={} verdict={} state={} merge_commit={} reason={}",
            session.task_id(), session.token(), approve ? "approve" : "reject",
            body.value("state", std::string("?")),
            body.contains("merge_commit") && body["merge_commit"].is_string()
                ? body["merge_commit"].get<std::string>() : std::string("-"),
            body.value("reason", std::string("-")));
        return approve ? job_result::approved : job_result::rejected;
      });
}

job_result finish_review(const job_context& ctx, claim_session& session, const command_result& ran) {
  if (auto ended = end_of_command(ctx, session, ran, words)) return *ended;
  const bool verdict = ran.status.exited && (ran.status.code == 0 || ran.status.code == 1);
  if (!verdict) {
    if (auto fault = classify_fault(ran, ctx.config.agent_fault)) {
      // No verdict and no disagreement: an agent that could not run has not
      // judged anything. (A review has no attempts to charge.)
      return release_for_fault(ctx, session, *fault,
                               "review agent unavailable: the command ended with " +
                                   fault->description,
                               true);
    }
  }
  note_agent_ran(ctx);
  if (ran.status.exited && ran.status.code == 0) return send_verdict(session, true, ran.output);
  if (ran.status.exited && ran.status.code == 1) {
    std::string reasons = ran.output;
    if (reasons.find_first_not_of(" \t\r\n") == std::string::npos)
      reasons = "the review command rejected the submission (exit 1) without saying why";
    return send_verdict(session, false, reasons);
  }
  return release_claim(session, with_last_output("review command failed: it ended with " +
                                                     ran.status.describe(),
                                                 ran));
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

  job_plan plan{
      .words = words,
      .fetch_phase = "fetching " + branch,
      .prepare =
          [&] {
            return ctx.workspace.prepare_review(repo, session.task_id(), session.token(), branch,
                                                commit);
          },
      .checkout_failure = "cannot check out the submission",
      .task_file =
          [&](const checkout& co) {
            json task_file = answer;
            task_file["token"] = session.token();
            task_file["checkout"] = co.dir.string();
            try {
              task_file["diff_stats"] = ctx.workspace.diff_stats(co);
            } catch (const std::exception& e) {
              spdlog::warn("event=diff_stats_failed task={} error=\"{}\"", session.task_id(),
                           e.what());
            }
            return task_file;
          },
      .run_phase = "running the review",
      .finish = [&](const checkout&,
                    const command_result& ran) { return finish_review(ctx, session, ran); },
  };
  return run_in_checkout(session, ctx, plan);
}

}  // namespace agentq::reviewer
