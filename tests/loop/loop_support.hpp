#pragma once
// Helpers for the whole-loop tests (issue 5) that tests/http and tests/runner
// do not have: the worker and reviewer sides driven by plain HTTP calls and
// the git CLI (for the tests that need a precise order of events), questions
// about a bare repository's history, and the invariant checker run on a
// database by URL. Servers and runner processes come from tests/http
// (server_process) and tests/runner (e2e_fixture, runner_process).

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "http_client.hpp"

namespace agentq::testing {

// A claim answer (POST /v1/claims → 200).
struct claimed {
  std::int64_t task_id = 0;
  std::int64_t token = 0;
  nlohmann::json answer;  // {task, claim, repo, feedback | submission}
};

// Claims through `client` (a worker's or a reviewer's), long-polling up to
// `limit` in rounds of wait_s; fails the test when nothing came.
claimed claim(http_client& client, int lease_s = 300,
              std::chrono::seconds limit = std::chrono::seconds(60));

// A commit on top of `base` that writes `text` to `path`, pushed to `branch`
// of the bare repository `origin` with the git CLI (a clone under `scratch`).
// Answers the commit.
std::string push_change(const std::filesystem::path& origin, const std::filesystem::path& scratch,
                        const std::string& branch, const std::string& base,
                        const std::string& path, const std::string& text);

// The worker's side of a task by hand: pushes a change from `base` to the
// claim's branch agentq/<task>/<token> and submits it. Answers the commit.
std::string submit_change(http_client& worker, const claimed& c,
                          const std::filesystem::path& origin,
                          const std::filesystem::path& scratch, const std::string& base,
                          const std::string& path, const std::string& text);

// `git --git-dir=<origin> <args>` (must succeed), output trimmed.
std::string git_in(const std::filesystem::path& origin, const std::string& args);
// Its output as lines (empty output: no lines).
std::vector<std::string> git_lines(const std::filesystem::path& origin, const std::string& args);
// Is `commit` reachable from `ref`?
bool reachable(const std::filesystem::path& origin, const std::string& commit,
               const std::string& ref = "refs/heads/main");
// Non-merge commits on `ref` that touch `path` (a change landed twice shows
// up as two).
std::vector<std::string> commits_touching(const std::filesystem::path& origin,
                                          const std::string& path,
                                          const std::string& ref = "refs/heads/main");

// agentq::check_invariants on the database at `database_url`.
std::vector<std::string> invariant_problems(const std::string& database_url);

// Events of a task answer (GET /v1/tasks/{id}) of this kind.
std::vector<nlohmann::json> events_of(const nlohmann::json& task_answer, const std::string& kind);

// Polls `condition` every 200 ms for up to `limit`; answers whether it held.
// (Waits for events, asserts nothing about how long they took.)
template <class F>
bool wait_until(F condition, std::chrono::seconds limit) {
  const auto give_up = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < give_up) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return condition();
}

}  // namespace agentq::testing
