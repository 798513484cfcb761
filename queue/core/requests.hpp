#pragma once
// Every request body of the HTTP API (docs/api.md §5), parsed and validated before
// anything is written. Pure: JSON in, a typed request or a refusal out, so the
// whole bad-input table is tested without a socket or a database.
//
// Rules common to all bodies: the body is a JSON object; unknown fields are
// refused (they would be silently lost); strings hold no NUL byte (PostgreSQL
// text cannot) and stay under their size; numbers are integers in range.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/defaults.hpp"
#include "core/refusal.hpp"
#include "core/task_state.hpp"

namespace agentq {

struct limits {
  static constexpr std::size_t title_max = 500;
  static constexpr std::size_t body_max = 256 * 1024;
  static constexpr std::size_t text_max = 64 * 1024;  // summaries, reasons, notes
  static constexpr std::size_t labels_max = 32;
  static constexpr std::size_t depends_on_max = 100;
  static constexpr int lease_min_s = defaults::lease_min_s;
  static constexpr int lease_max_s = defaults::lease_max_s;
  static constexpr int wait_max_s = 60;
};

struct new_task {
  std::string title;
  std::string body;
  std::string repo;
  std::string queue = "default";
  int priority = 0;
  std::optional<std::string> run_after;  // RFC 3339
  std::vector<std::int64_t> depends_on;
  int max_attempts = 3;
  int max_review_rounds = 3;
  std::optional<std::string> idempotency_key;
  nlohmann::json labels = nlohmann::json::array();
};

struct claim_request {
  std::vector<std::string> queues;  // empty: every queue
  int wait_s = 0;
  std::optional<int> lease_s;  // none: the server's default
};

struct heartbeat_request {
  std::int64_t token = 0;
  std::optional<std::string> progress;
};

struct submit_request {
  std::int64_t token = 0;
  std::string branch;
  std::string commit;
  std::string summary;
};

struct release_request {
  std::int64_t token = 0;
  std::string reason;
  bool retry = true;
  // false: the runner's fault (its agent could not run), not the task's: the
  // claim's attempt is given back (docs/api.md "Runner health").
  bool charge_attempt = true;
};

enum class verdict { approve, reject };

struct review_request {
  std::int64_t token = 0;
  agentq::verdict verdict = verdict::reject;
  std::string reasons;
};

struct new_agent {
  std::string name;
  agent_role role = agent_role::worker;
};

struct new_repo {
  std::string name;
  std::string url;
  std::string base_branch = "main";
};

struct resolve_request {
  std::string decision;  // reviewer_right | worker_right | spec_unclear
  std::string note;
};

struct note_request {  // cancel {reason?}, requeue {note?}, approve {note?}
  std::optional<std::string> note;
};

outcome<new_task> parse_new_task(const nlohmann::json& body);
outcome<claim_request> parse_claim_request(const nlohmann::json& body);
outcome<heartbeat_request> parse_heartbeat_request(const nlohmann::json& body);
outcome<submit_request> parse_submit_request(const nlohmann::json& body);
outcome<release_request> parse_release_request(const nlohmann::json& body);
outcome<review_request> parse_review_request(const nlohmann::json& body);
outcome<new_agent> parse_new_agent(const nlohmann::json& body);
outcome<new_repo> parse_new_repo(const nlohmann::json& body);
outcome<resolve_request> parse_resolve_request(const nlohmann::json& body);
// note_field: "note" for requeue and approve, "reason" for cancel.
// POST /v1/agents/me/status (docs/api.md "Runner health").
struct runner_status_request {
  std::string status;  // "healthy" | "unhealthy"
  std::optional<std::string> reason;
};
outcome<runner_status_request> parse_runner_status_request(const nlohmann::json& body);
outcome<note_request> parse_note_request(const nlohmann::json& body,
                                         const std::string& note_field);

// POST /v1/tasks/{id}/amend: a person rewrites the description (the
// spec-unclear loop) and, with requeue, sends the task back to the workers.
struct amend_request {
  std::string body;
  std::optional<std::string> note;
  bool requeue = false;
};
outcome<amend_request> parse_amend_request(const nlohmann::json& body);

// Names of repos, queues and agents: a letter or digit, then letters, digits,
// '.', '_', '-' (and '@' for agents); short. Safe in a path, a ref and a log.
bool is_valid_name(std::string_view name, std::size_t max_len = 100);
bool is_valid_agent_name(std::string_view name);
// A full 40-hex git object id, lower case.
bool is_valid_commit(std::string_view commit);
// A branch name a base branch may have: git's ref rules, conservatively.
bool is_valid_branch_name(std::string_view branch);
// The one branch a claim may push: agentq/<task-id>/<token> (docs/api.md §4.5).
std::string claim_branch(std::int64_t task_id, std::int64_t token);
// Local paths, file://, https://, ssh:// and scp-like git@host:path; never
// something that starts like an option.
bool is_valid_repo_url(std::string_view url);
// RFC 3339 date-time with a zone: 2026-01-02T03:04:05Z, …+02:00, fractions.
bool is_rfc3339(std::string_view text);
// Names the server writes as event actors itself (admin, reaper, merger,
// system; any case): no agent may take one.
bool is_reserved_agent_name(std::string_view name);
// For text that passed is_rfc3339: why it is no real time (2026-02-31, year
// 0000, an offset beyond 14:00, outside 0001-9999 in UTC), or nothing.
std::optional<std::string> impossible_time(std::string_view text);

}  // namespace agentq
