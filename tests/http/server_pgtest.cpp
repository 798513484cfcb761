// Real `agentq serve` processes on free ports against a fresh database, driven
// over HTTP with agentq_client: concurrency, long-poll wake-ups, shutdown, two
// servers on one database, and a merge through the server.
#include <catch2/catch.hpp>

#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "core/requests.hpp"
#include "http_client.hpp"
#include "process.hpp"
#include "support/test_database.hpp"

using namespace agentq;
using namespace agentq::testing;
using nlohmann::json;

namespace {

void add_repo(const std::string& server, const std::string& name, const std::string& url) {
  http_client admin(server, admin_token);
  auto r = admin.request("POST", "/v1/repos", {{"name", name}, {"url", url}});
  REQUIRE(r.status == 201);
}

std::int64_t add_task(const std::string& server, const std::string& title,
                      const std::string& queue = "default") {
  http_client admin(server, admin_token);
  auto r = admin.request("POST", "/v1/tasks",
                         {{"title", title}, {"body", "b"}, {"repo", "demo"}, {"queue", queue}});
  REQUIRE(r.status == 201);
  return r.body["task"]["id"].get<std::int64_t>();
}

// Waits (bounded) until a server reports `count` open long-polls.
void wait_for_long_polls(const std::string& server, double count) {
  for (int i = 0; i < 3000 && metric(server, "agentq_open_long_polls") != count; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  REQUIRE(metric(server, "agentq_open_long_polls") == count);
}

}  // namespace

TEST_CASE("64 concurrent HTTP claimers: every task has exactly one holder", "[server]") {
  test_database db;
  server_process server(db.url(), {"--db-pool", "8"});
  add_repo(server.url(), "demo", "/tmp/agentq-demo.git");
  const int tasks = 100;
  for (int i = 0; i < tasks; ++i) add_task(server.url(), "task " + std::to_string(i));
  std::vector<std::string> tokens;
  for (int i = 0; i < 64; ++i)
    tokens.push_back(make_agent(server.url(), "w" + std::to_string(i), "worker"));

  std::mutex mutex;
  std::multimap<std::int64_t, std::int64_t> holders;  // task -> token
  std::vector<std::string> failures;
  std::vector<std::thread> threads;
  for (int i = 0; i < 64; ++i)
    threads.emplace_back([&, i] {
      try {
        http_client client(server.url(), tokens[i]);
        while (true) {
          auto r = client.request("POST", "/v1/claims", {{"lease_s", 600}});
          if (r.status == 204) return;
          if (r.status != 200) throw std::runtime_error("claim: " + r.raw_body);
          std::lock_guard lock(mutex);
          holders.emplace(r.body["task"]["id"].get<std::int64_t>(),
                          r.body["claim"]["token"].get<std::int64_t>());
        }
      } catch (const std::exception& e) {
        std::lock_guard lock(mutex);
        failures.push_back(e.what());
      }
    });
  for (auto& t : threads) t.join();
  CHECK(failures.empty());
  CHECK(holders.size() == static_cast<std::size_t>(tasks));
  std::set<std::int64_t> task_ids, token_ids;
  for (const auto& [task, token] : holders) {
    task_ids.insert(task);
    token_ids.insert(token);
  }
  CHECK(task_ids.size() == static_cast<std::size_t>(tasks));  // no task twice
  CHECK(token_ids.size() == static_cast<std::size_t>(tasks));
  CHECK(metric(server.url(), "agentq_tasks{state=\"working\"}") == tasks);
  CHECK(metric(server.url(), "agentq_claims_total") == tasks);
}

TEST_CASE("a long-poll claim wakes up with a task added while it waits", "[server][long-poll]") {
  test_database db;
  server_process server(db.url());
  add_repo(server.url(), "demo", "/tmp/agentq-demo.git");
  auto worker = make_agent(server.url(), "w1", "worker");

  auto waiting = std::async(std::launch::async, [&] {
    http_client client(server.url(), worker);
    return client.request("POST", "/v1/claims", {{"wait_s", 60}, {"queues", {"fast"}}},
                          std::chrono::seconds(90));
  });
  wait_for_long_polls(server.url(), 1);
  add_task(server.url(), "elsewhere", "other");  // another queue: no wake-up for it
  auto id = add_task(server.url(), "wake up", "fast");
  auto answer = waiting.get();
  REQUIRE(answer.status == 200);  // with the task, so before wait_s ran out
  CHECK(answer.body["task"]["id"] == id);
  CHECK(metric(server.url(), "agentq_open_long_polls") == 0);
}

TEST_CASE("a long-poll with nothing to claim ends with 204 after wait_s", "[server][long-poll]") {
  test_database db;
  server_process server(db.url());
  auto worker = make_agent(server.url(), "w1", "worker");
  http_client client(server.url(), worker);
  auto answer = client.request("POST", "/v1/claims", {{"wait_s", 1}});
  CHECK(answer.status == 204);
  // the keep-alive connection still serves the next request
  CHECK(client.request("GET", "/v1/tasks").status == 200);
}

TEST_CASE("SIGTERM ends waiting long-polls with 204 and the server exits 0",
          "[server][long-poll][shutdown]") {
  test_database db;
  server_process server(db.url());
  auto worker = make_agent(server.url(), "w1", "worker");
  auto reviewer = make_agent(server.url(), "r1", "reviewer");
  auto poll = [&](const std::string& token) {
    return std::async(std::launch::async, [&server, token] {
      http_client client(server.url(), token);
      return client.request("POST", "/v1/claims", {{"wait_s", 60}}, std::chrono::seconds(90));
    });
  };
  auto w = poll(worker), r = poll(reviewer);
  wait_for_long_polls(server.url(), 2);
  CHECK(server.terminate() == 0);
  CHECK(w.get().status == 204);
  CHECK(r.get().status == 204);
}

TEST_CASE("two servers on one database: claims stay exclusive and wake-ups cross servers",
          "[server][two-servers]") {
  test_database db;
  server_process a(db.url()), b(db.url());
  add_repo(a.url(), "demo", "/tmp/agentq-demo.git");
  const int tasks = 60;
  for (int i = 0; i < tasks; ++i) add_task(i % 2 ? a.url() : b.url(), "t" + std::to_string(i));
  std::vector<std::string> tokens;
  for (int i = 0; i < 16; ++i)
    tokens.push_back(make_agent(a.url(), "w" + std::to_string(i), "worker"));

  std::mutex mutex;
  std::map<std::int64_t, int> claims_per_task;
  std::set<std::int64_t> tokens_seen;
  std::vector<std::thread> threads;
  for (int i = 0; i < 16; ++i)
    threads.emplace_back([&, i] {
      http_client client(i % 2 ? a.url() : b.url(), tokens[i]);
      while (true) {
        auto r = client.request("POST", "/v1/claims", json::object());
        if (r.status != 200) return;
        std::lock_guard lock(mutex);
        ++claims_per_task[r.body["task"]["id"].get<std::int64_t>()];
        tokens_seen.insert(r.body["claim"]["token"].get<std::int64_t>());
      }
    });
  for (auto& t : threads) t.join();
  CHECK(claims_per_task.size() == static_cast<std::size_t>(tasks));
  for (const auto& [task, count] : claims_per_task) CHECK(count == 1);
  CHECK(tokens_seen.size() == static_cast<std::size_t>(tasks));
  // both servers served claims
  CHECK(metric(a.url(), "agentq_claims_total") > 0);
  CHECK(metric(b.url(), "agentq_claims_total") > 0);

  // a waiter on B wakes for a task added through A
  auto waiting = std::async(std::launch::async, [&] {
    http_client client(b.url(), tokens[0]);
    return client.request("POST", "/v1/claims", {{"wait_s", 60}}, std::chrono::seconds(90));
  });
  wait_for_long_polls(b.url(), 1);
  auto id = add_task(a.url(), "through A");
  auto answer = waiting.get();
  REQUIRE(answer.status == 200);
  CHECK(answer.body["task"]["id"] == id);
}

TEST_CASE("a waiting client that hangs up is no longer counted as a long-poll",
          "[server][long-poll]") {
  test_database db;
  server_process server(db.url());
  auto worker = make_agent(server.url(), "w1", "worker");
  {
    http_client client(server.url(), worker);
    // The client gives up after 300 ms and closes its connection.
    CHECK_THROWS_AS(client.request("POST", "/v1/claims", {{"wait_s", 60}},
                                   std::chrono::milliseconds(300)),
                    http_unreachable);
  }
  wait_for_long_polls(server.url(), 0);
}

TEST_CASE("an approval through the server merges the submitted commit", "[server][git]") {
  repo_on_disk repo;
  test_database db;
  server_process server(db.url());
  add_repo(server.url(), "demo", repo.bare);
  auto id = add_task(server.url(), "change the file");
  http_client worker(server.url(), make_agent(server.url(), "w1", "worker"));
  http_client reviewer(server.url(), make_agent(server.url(), "r1", "reviewer"));

  auto claim = worker.request("POST", "/v1/claims", json::object());
  REQUIRE(claim.status == 200);
  const auto token = claim.body["claim"]["token"].get<std::int64_t>();
  const auto branch = claim_branch(id, token);
  const auto commit = repo.push(branch, "hello");

  auto submitted = worker.request(
      "POST", "/v1/tasks/" + std::to_string(id) + "/submit",
      {{"token", token}, {"branch", branch}, {"commit", commit}, {"summary", "changed it"}});
  REQUIRE(submitted.status == 200);
  auto review = reviewer.request("POST", "/v1/claims", json::object());
  REQUIRE(review.status == 200);
  auto approved = reviewer.request("POST", "/v1/tasks/" + std::to_string(id) + "/review",
                                   {{"token", review.body["claim"]["token"]},
                                    {"verdict", "approve"},
                                    {"reasons", "good"}});
  INFO(approved.raw_body);
  REQUIRE(approved.status == 200);
  CHECK(approved.body["state"] == "done");
  const auto merge_commit = approved.body["merge_commit"].get<std::string>();
  CHECK(sh("git --git-dir=" + repo.bare + " rev-parse main") == merge_commit);
  CHECK(sh("git --git-dir=" + repo.bare + " merge-base --is-ancestor " + commit + " main && echo yes") ==
        "yes");
}

TEST_CASE("a person overrules a rejection: the server merges it - the log keeps both sides - "
          "and the entry shows the change's diff stats",
          "[server][git]") {
  repo_on_disk repo;
  test_database db;
  server_process server(db.url());
  add_repo(server.url(), "demo", repo.bare);
  http_client admin(server.url(), admin_token);
  auto added = admin.request("POST", "/v1/tasks",
                             {{"title", "greet"}, {"body", "b"}, {"repo", "demo"},
                              {"max_review_rounds", 1}});
  REQUIRE(added.status == 201);
  const auto id = added.body["task"]["id"].get<std::int64_t>();
  http_client worker(server.url(), make_agent(server.url(), "w1", "worker"));
  http_client reviewer(server.url(), make_agent(server.url(), "r1", "reviewer"));

  auto who = reviewer.request("GET", "/v1/whoami");
  REQUIRE(who.status == 200);
  CHECK(who.body == json({{"name", "r1"}, {"role", "reviewer"}}));

  auto claim = worker.request("POST", "/v1/claims", json::object());
  REQUIRE(claim.status == 200);
  const auto token = claim.body["claim"]["token"].get<std::int64_t>();
  const auto branch = claim_branch(id, token);
  const auto commit = repo.push(branch, "hello there");
  REQUIRE(worker.request("POST", "/v1/tasks/" + std::to_string(id) + "/submit",
                         {{"token", token}, {"branch", branch}, {"commit", commit},
                          {"summary", "greets politely"}})
              .status == 200);
  auto review = reviewer.request("POST", "/v1/claims", json::object());
  REQUIRE(review.status == 200);
  auto rejected = reviewer.request("POST", "/v1/tasks/" + std::to_string(id) + "/review",
                                   {{"token", review.body["claim"]["token"]},
                                    {"verdict", "reject"},
                                    {"reasons", "too polite"}});
  REQUIRE(rejected.status == 200);
  CHECK(rejected.body["state"] == "needs_human");

  // The rejection's entry shows the change it judged.
  auto shown = admin.request(
      "GET", "/v1/disagreements/" + std::to_string(rejected.body["disagreement_id"].get<int>()));
  REQUIRE(shown.status == 200);
  CHECK(shown.body["disagreement"]["kind"] == "rejection");
  CHECK(shown.body["diff_stats"]["files_changed"] == 1);
  CHECK(shown.body["diff_stats"]["insertions"].get<int>() >= 1);

  // Only an admin may overrule; the reviewer may not.
  CHECK(reviewer.request("POST", "/v1/tasks/" + std::to_string(id) + "/approve", json::object())
            .status == 403);
  auto approved = admin.request("POST", "/v1/tasks/" + std::to_string(id) + "/approve",
                                {{"note", "politeness was asked for"}});
  INFO(approved.raw_body);
  REQUIRE(approved.status == 200);
  CHECK(approved.body["state"] == "done");
  CHECK(sh("git --git-dir=" + repo.bare + " merge-base --is-ancestor " + commit +
           " main && echo yes") == "yes");
  // Twice: the task is done, nothing more to approve.
  CHECK(admin.request("POST", "/v1/tasks/" + std::to_string(id) + "/approve", json::object())
            .status == 409);

  auto log = admin.request("GET", "/v1/disagreements?status=all");
  REQUIRE(log.status == 200);
  REQUIRE(log.body["disagreements"].size() == 2);
  const json& override_entry = log.body["disagreements"][0];
  CHECK(override_entry["kind"] == "human_override");
  CHECK(override_entry["reasons"] == "too polite");
  CHECK(override_entry["worker_summary"] == "greets politely");
  CHECK(override_entry["resolution"]["by"] == "admin");
  CHECK(override_entry["resolution"]["note"] == "politeness was asked for");

}

TEST_CASE("HEAD answers carry no body, and odd methods share one metrics label", "[server]") {
  test_database db;
  server_process server(db.url());
  http_client client(server.url(), admin_token);
  auto get = client.request("GET", "/healthz");
  REQUIRE(get.status == 200);
  auto head = client.request("HEAD", "/healthz");
  CHECK(head.status == 200);
  CHECK(head.raw_body.empty());
  CHECK(head.headers["content-length"] == std::to_string(get.raw_body.size()));
  // The connection is still in step: the next answer is the right one.
  auto listed = client.request("GET", "/v1/tasks");
  CHECK(listed.status == 200);
  CHECK(listed.body["tasks"].is_array());

  auto wrong = client.request("PUT", "/v1/tasks");
  CHECK(wrong.status == 405);
  CHECK(wrong.headers["allow"] == "POST, GET, HEAD");
  for (const char* method : {"PATCH", "OPTIONS", "TRACE", "PROPFIND", "MKCOL", "LOCK"})
    client.request(method, "/v1/made-up");
  auto page = client.request("GET", "/metrics").raw_body;
  CHECK(page.find("route=\"other\"") != std::string::npos);
  for (const char* method : {"PATCH", "OPTIONS", "PROPFIND", "MKCOL"})
    CHECK(page.find(method) == std::string::npos);
}
