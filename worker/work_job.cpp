#include "worker/work_job.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <spdlog/spdlog.h>

#include "core/requests.hpp"

namespace agentq::worker {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace agentq::runner;

namespace {

const job_words words{
    .runner = "worker",
    .command = "the agent command",
    .abandoned = "pushed=nothing",
};

std::string first_line(const std::string& text) {
  auto nl = text.find('\n');
  return nl == std::string::npos ? text : text.substr(0, nl);
}

// The submission's summary: .agentq/summary.md in `dir` if the command
// wrote one, else its last lines; never empty.
std::string choose_summary(const fs::path& dir, const std::string& last_lines) {
  fs::path file = dir / ".agentq" / "summary.md";
  std::error_code ec;
  if (fs::is_regular_file(file, ec)) {
    std::ifstream in(file, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    std::string text = sanitize_text(ss.str(), limits::text_max);
    if (text.find_first_not_of(" \t\r\n") != std::string::npos) return text;
  }
  std::string text = sanitize_text(last_lines, limits::text_max);
  if (text.find_first_not_of(" \t\r\n") != std::string::npos) return text;
  return "(the agent command printed nothing)";
}

job_result finish_work(const job_context& ctx, claim_session& session, const checkout& co,
                       const command_result& ran) {
  if (auto ended = end_of_command(ctx, session, ran, words)) return *ended;
  if (auto fault = classify_fault(ran, ctx.config.agent_fault)) {
    // It could not even start on the task (no login, no program): the
    // runner's fault, so the task keeps its attempt.
    return release_for_fault(ctx, session, *fault,
                             "agent failed: the command ended with " + fault->description +
                                 " (it did no work: a fault of the runner, not the task: attempt "
                                 "not charged)",
                             false);
  }
  note_agent_ran(ctx);
  if (!ran.status.success())
    return release_claim(session, with_last_output("agent failed: the command ended with " +
                                                       ran.status.describe(),
                                                   ran));

  session.set_phase("committing");
  const json& task = session.answer().at("task");
  std::string title = task.value("title", std::string("agentq task"));
  std::string message = first_line(title) + "\n\nagentq task " + std::to_string(session.task_id()) +
                        ", claim " + std::to_string(session.token()) + "\n";
  // The commit's author is the agent the claim was granted to.
  std::string author = session.answer().at("claim").value("agent", std::string("agentq-worker"));
  commit_outcome committed;
  try {
    committed = ctx.workspace.commit_all(co, author, author + "@agentq.invalid", message);
  } catch (const git_failure& e) {
    return release_claim(session, std::string("git: cannot commit the agent's work: ") + e.what());
  }
  if (!committed.changed)
    return release_claim(session, "no change: the agent command exited 0 but changed nothing");

  // Nothing leaves this machine unless the claim is still ours.
  if (session.lease_lost()) return abandon(session, words);
  session.set_phase("pushing");
  try {
    ctx.workspace.push_branch(co);
  } catch (const git_failure& e) {
    return release_claim(session, std::string("push failed: ") + e.what());
  }
  spdlog::info("event=pushed task={} token={} branch={} commit={}", session.task_id(),
               session.token(), co.local_branch, committed.commit);

  std::string summary = choose_summary(co.dir, ran.summary_lines);
  return final_call(
      session, "submit",
      [&](queue_api& api) {
        return api.submit(session.task_id(), session.token(), co.local_branch, committed.commit,
                          summary);
      },
      [&](const json&) {
        spdlog::info("event=submitted task={} token={} branch={} commit={}", session.task_id(),
                     session.token(), co.local_branch, committed.commit);
        return job_result::submitted;
      });
}

}  // namespace

job_result run_work_job(const job_context& ctx, const json& answer,
                        lease_clock::time_point claimed_at) {
  claim_session session(ctx, answer, claimed_at);
  repo_info repo = session.repo();
  spdlog::info("event=claimed task={} token={} repo={} attempt={} title=\"{}\"", session.task_id(),
               session.token(), repo.name, answer.at("task").value("attempt", 0),
               answer.at("task").value("title", std::string()));

  job_plan plan{
      .words = words,
      .fetch_phase = "fetching " + repo.name,
      .prepare =
          [&] { return ctx.workspace.prepare_work(repo, session.task_id(), session.token()); },
      .checkout_failure = "git: cannot prepare the checkout",
      .task_file =
          [&](const checkout& co) {
            json task_file = answer;
            task_file["token"] = session.token();
            task_file["branch"] = co.local_branch;
            task_file["base_commit"] = co.base_commit;
            task_file["checkout"] = co.dir.string();
            if (!task_file.contains("feedback")) task_file["feedback"] = json::array();
            return task_file;
          },
      .run_phase = "running the agent",
      .finish = [&](const checkout& co,
                    const command_result& ran) { return finish_work(ctx, session, co, ran); },
  };
  return run_in_checkout(session, ctx, plan);
}

}  // namespace agentq::worker
