#include "runner/job_steps.hpp"

#include <spdlog/spdlog.h>

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

job_result release_claim(claim_session& session, const std::string& reason,
                         bool charge_attempt) {
  session.stop_heartbeats();
  if (session.lease_lost()) return job_result::lost;
  auto reply =
      session.api().release(session.task_id(), session.token(), reason, true, charge_attempt);
  if (reply.ok()) {
    spdlog::info("event=released task={} token={} state={} charged_attempt={} reason=\"{}\"",
                 session.task_id(), session.token(), reply.body.value("state", std::string("?")),
                 reply.body.value("charged_attempt", charge_attempt), reason);
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

void tell_server(const job_context& ctx, const std::string& status, const std::string& reason) {
  queue_api api(ctx.config.server, ctx.config.token);
  if (!api.report_status(status, reason))
    spdlog::warn("event=status_report_failed status={} note=\"the server did not take it\"",
                 status);
}

}  // namespace

job_result release_for_fault(const job_context& ctx, claim_session& session,
                             const agent_fault& fault, const std::string& reason,
                             bool charge_attempt) {
  auto& health = ctx.health;
  switch (health.record_fault(fault)) {
    case agent_health::change::became_unhealthy:
      // The one line that says what to fix.
      spdlog::error(
          "event=agent_unavailable failures={} fault=\"{}\" action=\"no new claims for {} s, then "
          "one task as a probe (the wait doubles up to {} s); claims in hand are released "
          "without charging their attempts\" hint=\"the agent command fails before doing any "
          "work: make it run as this user (log its CLI in: claude /login, codex login, "
          "GEMINI_API_KEY; install it; check the command)\" command=\"{}\"",
          health.streak(), fault.description, health.backoff().count(),
          ctx.config.unhealthy_backoff_max.count(), ctx.config.command);
      tell_server(ctx, "unhealthy",
                  "the agent command fails before doing any work (" +
                      std::to_string(health.streak()) + " times in a row): " + fault.description);
      break;
    case agent_health::change::still_unhealthy:
      spdlog::warn("event=agent_still_unavailable failures={} fault=\"{}\" next_probe_in_s={}",
                   health.streak(), fault.description, health.backoff().count());
      break;
    default:
      spdlog::warn("event=agent_fault failures={} fault=\"{}\" unhealthy_after={}",
                   health.streak(), fault.description, ctx.config.unhealthy_after);
      break;
  }
  return release_claim(session, reason, charge_attempt);
}

void note_agent_ran(const job_context& ctx) {
  switch (ctx.health.record_fine()) {
    case agent_health::change::became_healthy:
      spdlog::info("event=agent_available note=\"the agent command runs again: claiming as usual\"");
      tell_server(ctx, "healthy", "the agent command runs");
      break;
    case agent_health::change::first_fine:
      tell_server(ctx, "healthy", "the agent command runs");
      break;
    default:
      break;
  }
}

job_result abandon(claim_session& session, const job_words& words) {
  spdlog::error("event=abandoned task={} token={} reason=\"{}\" {}", session.task_id(),
                session.token(), session.lease_lost_reason(), words.abandoned);
  return job_result::lost;
}

std::optional<job_result> end_of_command(const job_context& ctx, claim_session& session,
                                         const command_result& ran, const job_words& words) {
  using kind = command_result::kind;
  switch (ran.outcome) {
    case kind::lease_lost:
      return abandon(session, words);
    case kind::timed_out:
      return release_claim(session, "timeout: " + words.command + " ran longer than " +
                                        std::to_string(ctx.config.task_timeout.count()) +
                                        "s and was killed");
    case kind::stopped:
      return release_claim(session,
                           words.runner + " stopping: " + words.command + " was interrupted");
    case kind::exited:
      break;
  }
  return std::nullopt;
}

std::string with_last_output(std::string reason, const command_result& ran) {
  if (!ran.last_line.empty()) reason += "; last output: " + ran.last_line;
  return reason;
}

job_result final_call(claim_session& session, const std::string& call,
                      const std::function<holder_reply(queue_api&)>& send,
                      const std::function<job_result(const json& body)>& accepted) {
  if (session.lease_lost()) {
    session.stop_heartbeats();
    return job_result::lost;
  }
  session.begin_final_call();
  holder_reply reply = send(session.api());
  session.stop_heartbeats();
  if (reply.ok()) return accepted(reply.body);
  if (reply.conflict()) {
    spdlog::error("event={}_refused task={} token={} error=\"{}\"", call, session.task_id(),
                  session.token(), reply.error);
    return job_result::lost;
  }
  spdlog::error("event={}_failed task={} token={} error=\"{}\"", call, session.task_id(),
                session.token(), reply.error);
  // An answer the server did not take (e.g. 400): give the task back.
  if (reply.status >= 400) return release_claim(session, call + " failed: " + reply.error);
  return job_result::failed;
}

job_result run_in_checkout(claim_session& session, const job_context& ctx, const job_plan& plan) {
  const std::string repo = session.repo().name;
  session.set_phase(plan.fetch_phase);
  checkout co;
  try {
    co = plan.prepare();
  } catch (const git_unreachable& e) {
    spdlog::error("event=repo_unreachable task={} repo={} error=\"{}\"", session.task_id(), repo,
                  e.what());
    return release_claim(session, std::string("repository unreachable: ") + e.what());
  } catch (const std::exception& e) {
    spdlog::error("event=checkout_failed task={} repo={} error=\"{}\"", session.task_id(), repo,
                  e.what());
    return release_claim(session, plan.checkout_failure + ": " + e.what());
  }

  json task_file = plan.task_file(co);
  job_result result = job_result::failed;
  try {
    session.set_phase(plan.run_phase);
    command_result ran = session.run_command(co.dir, task_file);
    result = plan.finish(co, ran);
  } catch (const std::exception& e) {
    spdlog::error("event=job_failed task={} error=\"{}\"", session.task_id(), e.what());
    result = release_claim(session, plan.words.runner + " error: " + e.what());
  }
  ctx.workspace.remove(co);
  return result;
}

}  // namespace agentq::runner
