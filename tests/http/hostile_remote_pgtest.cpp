// A git remote that accepts TCP and never answers, behind a real `agentq
// serve` (issue 9): calls that need it (the submit check, diff stats, the
// merge of an approval) answer 503 naming the repository once the git
// deadline passes, while heartbeats and claims against a healthy repository
// go on at 50 calls a second without waiting for it.
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <future>
#include <thread>
#include <vector>

#include <pqxx/pqxx>

#include "http_client.hpp"
#include "process.hpp"
#include "support/silent_remote.hpp"
#include "support/test_database.hpp"

using namespace agentq;
using namespace agentq::testing;
using nlohmann::json;
using steady = std::chrono::steady_clock;

namespace {

constexpr int git_timeout_s = 2;

double seconds_since(steady::time_point start) {
  return std::chrono::duration<double>(steady::now() - start).count();
}

std::int64_t add_task(http_client& admin, const std::string& repo, const std::string& queue) {
  auto r = admin.request("POST", "/v1/tasks",
                         {{"title", "t"}, {"body", "b"}, {"repo", repo}, {"queue", queue}});
  REQUIRE(r.status == 201);
  return r.body["task"]["id"].get<std::int64_t>();
}

struct claimed {
  std::int64_t task = 0;
  std::int64_t token = 0;
};

claimed claim(http_client& agent, const std::string& queue) {
  auto r = agent.request("POST", "/v1/claims", {{"queues", {queue}}});
  REQUIRE(r.status == 200);
  return {r.body["task"]["id"].get<std::int64_t>(), r.body["claim"]["token"].get<std::int64_t>()};
}

std::string branch_of(const claimed& c) {
  return "agentq/" + std::to_string(c.task) + "/" + std::to_string(c.token);
}

std::string task_path(std::int64_t id, const std::string& call) {
  return "/v1/tasks/" + std::to_string(id) + "/" + call;
}

// Heartbeats and claims against the healthy repository at about 50 calls a
// second for `seconds`: answers each call's latency; every call must succeed.
std::vector<double> healthy_traffic(const std::string& server, const std::string& worker_token,
                                    const std::vector<claimed>& held, double seconds) {
  http_client worker(server, worker_token);
  std::vector<double> latencies;
  const auto start = steady::now();
  for (int i = 0; seconds_since(start) < seconds; ++i) {
    const auto sent = steady::now();
    http_response r;
    if (i % 5 == 4) {
      r = worker.request("POST", "/v1/claims", {{"queues", {"fast"}}});  // 200 or 204
      if (r.status == 200) {
        const auto task = r.body["task"]["id"].get<std::int64_t>();
        const auto token = r.body["claim"]["token"].get<std::int64_t>();
        worker.request("POST", task_path(task, "release"), {{"token", token}, {"reason", "x"}});
      }
      CHECK((r.status == 200 || r.status == 204));
    } else {
      const auto& c = held[i % held.size()];
      r = worker.request("POST", task_path(c.task, "heartbeat"), {{"token", c.token}});
      CHECK(r.status == 200);
    }
    latencies.push_back(seconds_since(sent));
    std::this_thread::sleep_until(sent + std::chrono::milliseconds(20));
  }
  return latencies;
}

double percentile(std::vector<double> values, double p) {
  REQUIRE_FALSE(values.empty());
  std::sort(values.begin(), values.end());
  return values[std::min(values.size() - 1, static_cast<std::size_t>(p * values.size()))];
}

void check_unavailable_naming(const http_response& r, const std::string& repo) {
  CHECK(r.status == 503);
  CHECK(r.error_code() == "unavailable");
  CHECK(r.error_message().find("'" + repo + "'") != std::string::npos);
  CHECK(r.headers.count("retry-after") == 1);
}

}  // namespace

TEST_CASE("a silent git remote: 16 submits get 503 at the git deadline while healthy calls go on",
          "[server][git][hostile]") {
  test_database db;
  silent_remote hostile;
  repo_on_disk healthy;
  server_process server(db.url(), {"--git-timeout-s", std::to_string(git_timeout_s),
                                   "--allow-private-repo-hosts"});
  http_client admin(server.url(), admin_token);
  REQUIRE(admin.request("POST", "/v1/repos", {{"name", "hostile"}, {"url", hostile.http_url()}})
              .status == 201);
  REQUIRE(admin.request("POST", "/v1/repos", {{"name", "healthy"}, {"url", healthy.bare}})
              .status == 201);

  // Sixteen workers each hold a task of the silent repository.
  std::vector<std::string> slow_workers;
  std::vector<claimed> slow_claims;
  for (int i = 0; i < 16; ++i) {
    add_task(admin, "hostile", "slow");
    slow_workers.push_back(make_agent(server.url(), "slow" + std::to_string(i), "worker"));
    http_client worker(server.url(), slow_workers.back());
    slow_claims.push_back(claim(worker, "slow"));
  }
  // A healthy worker holds three tasks of the healthy repository; more wait.
  const auto fast_worker = make_agent(server.url(), "fast", "worker");
  http_client fast(server.url(), fast_worker);
  std::vector<claimed> held;
  for (int i = 0; i < 10; ++i) add_task(admin, "healthy", "fast");
  for (int i = 0; i < 3; ++i) held.push_back(claim(fast, "fast"));

  // The sixteen submits, all at once.
  const auto started = steady::now();
  std::vector<std::future<std::pair<http_response, double>>> submits;
  for (int i = 0; i < 16; ++i)
    submits.push_back(std::async(std::launch::async, [&, i] {
      http_client worker(server.url(), slow_workers[i]);
      const auto sent = steady::now();
      auto r = worker.request("POST", task_path(slow_claims[i].task, "submit"),
                              {{"token", slow_claims[i].token},
                               {"branch", branch_of(slow_claims[i])},
                               {"commit", std::string(40, 'a')},
                               {"summary", "s"}},
                              std::chrono::seconds(30));
      return std::make_pair(r, seconds_since(sent));
    }));
  // Meanwhile: healthy traffic for longer than the git deadline.
  auto latencies = healthy_traffic(server.url(), fast_worker, held, git_timeout_s + 1.5);

  double slowest_submit = 0;
  for (auto& s : submits) {
    auto [r, took] = s.get();
    check_unavailable_naming(r, "hostile");
    slowest_submit = std::max(slowest_submit, took);
  }
  WARN("hostile submits: slowest answer " << slowest_submit << " s (git deadline "
                                          << git_timeout_s << " s); healthy calls: "
                                          << latencies.size() << ", p50 "
                                          << percentile(latencies, 0.5) * 1000 << " ms, p99 "
                                          << percentile(latencies, 0.99) * 1000 << " ms");
  // Each submit is answered by its deadline plus a second, however many wait.
  CHECK(slowest_submit <= git_timeout_s + 1.0);
  CHECK(seconds_since(started) >= git_timeout_s - 0.1);  // they did wait for the remote
  // No healthy call waited for the silent remote: each was answered well
  // before the git deadline (the bound is the deadline itself, not a speed).
  CHECK(latencies.size() >= 100);
  CHECK(percentile(latencies, 1.0) < git_timeout_s);
  CHECK(hostile.accepted() >= 1);

  // Nothing changed for the sixteen: each still holds its working claim.
  for (const auto& c : slow_claims) {
    auto task = admin.request("GET", "/v1/tasks/" + std::to_string(c.task));
    CHECK(task.body["task"]["state"] == "working");
  }
}

TEST_CASE("a remote that goes silent: diff stats and the merge of an approval answer 503 at the deadline",
          "[server][git][hostile]") {
  test_database db;
  silent_remote hostile;
  repo_on_disk repo;
  server_process server(db.url(), {"--git-timeout-s", std::to_string(git_timeout_s)});
  http_client admin(server.url(), admin_token);
  REQUIRE(admin.request("POST", "/v1/repos", {{"name", "proj"}, {"url", repo.bare}}).status ==
          201);
  const auto worker_token = make_agent(server.url(), "w", "worker");
  const auto reviewer_token = make_agent(server.url(), "r", "reviewer");
  http_client worker(server.url(), worker_token);
  http_client reviewer(server.url(), reviewer_token);

  // Two submissions while the repository answers: one rejected (a
  // disagreement), one claimed by the reviewer and not judged yet.
  auto submit = [&](const claimed& c, const std::string& text) {
    auto commit = repo.push(branch_of(c), text);
    auto r = worker.request("POST", task_path(c.task, "submit"),
                            {{"token", c.token}, {"branch", branch_of(c)}, {"commit", commit},
                             {"summary", "done " + text}});
    REQUIRE(r.status == 200);
  };
  add_task(admin, "proj", "default");
  auto first = claim(worker, "default");
  submit(first, "one");
  auto review = claim(reviewer, "default");
  auto rejected = reviewer.request("POST", task_path(review.task, "review"),
                                   {{"token", review.token}, {"verdict", "reject"},
                                    {"reasons", "no test"}});
  REQUIRE(rejected.status == 200);
  const auto disagreement = rejected.body["disagreement_id"].get<std::int64_t>();
  auto shown = reviewer.request("GET", "/v1/disagreements/" + std::to_string(disagreement));
  REQUIRE(shown.status == 200);
  CHECK(shown.body["diff_stats"]["files_changed"] == 1);  // the repository answers

  auto again = claim(worker, "default");
  submit(again, "two");
  auto second_review = claim(reviewer, "default");

  // The repository's host goes silent (its URL now points at the listener).
  {
    pqxx::connection sql(db.url());
    pqxx::work tx(sql);
    tx.exec_params("update repos set url = $1 where name = 'proj'", hostile.http_url());
    tx.commit();
  }

  std::vector<std::future<std::pair<http_response, double>>> shows;
  for (int i = 0; i < 4; ++i)
    shows.push_back(std::async(std::launch::async, [&] {
      http_client client(server.url(), reviewer_token);
      const auto sent = steady::now();
      auto r = client.request("GET", "/v1/disagreements/" + std::to_string(disagreement));
      return std::make_pair(r, seconds_since(sent));
    }));
  const auto sent = steady::now();
  auto approved = reviewer.request("POST", task_path(second_review.task, "review"),
                                   {{"token", second_review.token}, {"verdict", "approve"}});
  const double approve_took = seconds_since(sent);
  for (auto& s : shows) {
    auto [r, took] = s.get();
    check_unavailable_naming(r, "proj");
    CHECK(took <= git_timeout_s + 1.0);
  }
  // The approval is recorded; its merge waits for the repository and is
  // retried by the merger (it stays pending meanwhile).
  CHECK(approved.status == 503);
  CHECK(approved.error_message().find("approval is recorded") != std::string::npos);
  CHECK(approve_took <= git_timeout_s + 1.0);
  auto task = admin.request("GET", "/v1/tasks/" + std::to_string(second_review.task));
  CHECK(task.body["task"]["state"] == "reviewing");
  // The server itself kept answering meanwhile.
  CHECK(admin.request("GET", "/healthz").status == 200);
}
