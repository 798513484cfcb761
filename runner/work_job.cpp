// The worker's job (CONTRACT §6): a work tree on a fresh branch from the base
// branch, the agent command under the lease, then commit, push exactly the
// claim's branch, and submit — or release with the reason.
#include <spdlog/spdlog.h>

#include "runner/jobs.hpp"

namespace agentq::runner {

using nlohmann::json;

const char* to_string(job_result result) {
  switch (result) {
    case job_result::submitted: return "submitted";
    case job_result::approved: return "approved";
    case job_result::rejected: return "rejected";
    case job_result::released: return "released";
    case job_result::lost: return "lost";
    case job_result::failed: return "failed";
  }
  return "?";
}

job_result release_claim(claim_session& session, const std::string& reason) {
  session.stop_heartbeats();
  if (session.lease_lost()) return job_result::lost;
  auto reply = session.api().release(session.task_id(), session.token(), reason, true);
  if (reply.ok()) {
    spdlog::info("event=released task={} token={} state={} reason=\"{}\"", session.task_id(),
                 session.token(), reply.body.value("state", std::string("?")), reason);
    return job_result::released;
  }
  if (reply.conflict()) {
    spdlog::warn("event=release_refused task={} token={} error=\"{}\"", session.task_id(),
                 session.token(), reply.error);
    return job_result::lost;
  }
  spdlog::error("event=release_failed task={} token={} error=\"{}\"", session.task_id(),
                session.token(), reply.error);
  return job_result::failed;
}

namespace {

std::string first_line(const std::string& text) {
  auto nl = text.find('\n');
  return nl == std::string::npos ? text : text.substr(0, nl);
}

job_result finish_work(const job_context& ctx, claim_session& session, const checkout& co,
                       const command_result& ran) {
  using kind = command_result::kind;
  switch (ran.outcome) {
    case kind::lease_lost:
      spdlog::error("event=abandoned task={} token={} reason=\"{}\" pushed=nothing",
                    session.task_id(), session.token(), session.lease_lost_reason());
      return job_result::lost;
    case kind::timed_out:
      return release_claim(session, "timeout: the agent command ran longer than " +
                                        std::to_string(ctx.config.task_timeout.count()) +
                                        "s and was killed");
    case kind::stopped:
      return release_claim(session, "worker stopping: the agent command was interrupted");
    case kind::exited:
      break;
  }
  if (!ran.status.success()) {
    std::string reason = "agent failed: the command ended with " + ran.status.describe();
    if (!ran.last_line.empty()) reason += "; last output: " + ran.last_line;
    return release_claim(session, reason);
  }

  session.set_phase("committing");
  const json& task = session.answer().at("task");
  std::string title = task.value("title", std::string("agentq task"));
  std::string message = first_line(title) + "\n\nagentq task " + std::to_string(session.task_id()) +
                        ", claim " + std::to_string(session.token()) + "\n";
  std::string author = session.agent_name();
  commit_outcome committed;
  try {
    committed = ctx.workspace.commit_all(co, author, author + "@agentq.invalid", message);
  } catch (const git_failure& e) {
    return release_claim(session, std::string("git: cannot commit the agent's work: ") + e.what());
  }
  if (!committed.changed)
    return release_claim(session, "no change: the agent command exited 0 but changed nothing");

  // Nothing leaves this machine unless the claim is still ours.
  if (session.lease_lost()) {
    spdlog::error("event=abandoned task={} token={} reason=\"{}\" pushed=nothing",
                  session.task_id(), session.token(), session.lease_lost_reason());
    return job_result::lost;
  }
  session.set_phase("pushing");
  try {
    ctx.workspace.push_branch(co);
  } catch (const git_failure& e) {
    return release_claim(session, std::string("push failed: ") + e.what());
  }
  spdlog::info("event=pushed task={} token={} branch={} commit={}", session.task_id(),
               session.token(), co.local_branch, committed.commit);

  std::string summary = choose_summary(co.dir, ran.summary_lines);
  session.stop_heartbeats();
  if (session.lease_lost()) return job_result::lost;
  auto reply = session.api().submit(session.task_id(), session.token(), co.local_branch,
                                    committed.commit, summary);
  if (reply.ok()) {
    spdlog::info("event=submitted task={} token={} branch={} commit={}", session.task_id(),
                 session.token(), co.local_branch, committed.commit);
    return job_result::submitted;
  }
  if (reply.conflict()) {
    spdlog::error("event=submit_refused task={} token={} error=\"{}\"", session.task_id(),
                  session.token(), reply.error);
    return job_result::lost;
  }
  spdlog::error("event=submit_failed task={} token={} error=\"{}\"", session.task_id(),
                session.token(), reply.error);
  // A submission the server did not take (e.g. 400): give the task back.
  if (reply.status >= 400) return release_claim(session, "submit failed: " + reply.error);
  return job_result::failed;
}

}  // namespace

job_result run_work_job(const job_context& ctx, const json& answer,
                        lease_clock::time_point claimed_at) {
  claim_session session(ctx, answer, claimed_at);
  repo_info repo = session.repo();
  spdlog::info("event=claimed task={} token={} repo={} attempt={} title=\"{}\"", session.task_id(),
               session.token(), repo.name, answer.at("task").value("attempt", 0),
               answer.at("task").value("title", std::string()));

  session.set_phase("fetching " + repo.name);
  checkout co;
  try {
    co = ctx.workspace.prepare_work(repo, session.task_id(), session.token());
  } catch (const git_unreachable& e) {
    spdlog::error("event=repo_unreachable task={} repo={} error=\"{}\"", session.task_id(),
                  repo.name, e.what());
    return release_claim(session, std::string("repository unreachable: ") + e.what());
  } catch (const std::exception& e) {
    spdlog::error("event=checkout_failed task={} repo={} error=\"{}\"", session.task_id(),
                  repo.name, e.what());
    return release_claim(session, std::string("git: cannot prepare the checkout: ") + e.what());
  }

  json task_file = answer;
  task_file["token"] = session.token();
  task_file["branch"] = co.local_branch;
  task_file["base_commit"] = co.base_commit;
  task_file["checkout"] = co.dir.string();
  if (!task_file.contains("feedback")) task_file["feedback"] = json::array();

  job_result result = job_result::failed;
  try {
    session.set_phase("running the agent");
    command_result ran = session.run_command(co.dir, task_file);
    result = finish_work(ctx, session, co, ran);
  } catch (const std::exception& e) {
    spdlog::error("event=job_failed task={} error=\"{}\"", session.task_id(), e.what());
    result = release_claim(session, std::string("worker error: ") + e.what());
  }
  ctx.workspace.remove(co);
  return result;
}

}  // namespace agentq::runner
