// Listings stay small whatever the tasks hold (issue 10, item 10): a real
// `agentq serve` with many tasks of 256 KiB bodies. Summaries carry no body,
// bodies come only when asked and then a few a page, paging with the cursor
// visits every task exactly once while tasks are being added, and the
// server's peak memory under concurrent listings stays under a stated bound.
#include <catch2/catch.hpp>

#include <atomic>
#include <fstream>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "http_client.hpp"
#include "process.hpp"
#include "support/test_database.hpp"

using namespace agentq;
using namespace agentq::testing;
using nlohmann::json;

namespace {

constexpr std::size_t big_body_bytes = 256 * 1024;
constexpr int big_tasks = 120;  // 30 MiB of bodies
// The bound this test states for the server's peak resident memory while four
// clients page through every task with and without bodies (before summaries
// and page caps, four listings of 200 such tasks took 905 MB).
constexpr long peak_rss_bound_kib = 256 * 1024;

// The server's peak resident set (VmHWM) in KiB.
long peak_rss_kib(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}

void add_tasks(const std::string& server, int first, int count, std::size_t body_bytes) {
  http_client admin(server, admin_token);
  for (int i = first; i < first + count; ++i) {
    auto r = admin.request("POST", "/v1/tasks",
                           {{"title", "task " + std::to_string(i)},
                            {"body", std::string(body_bytes, static_cast<char>('a' + i % 26))},
                            {"repo", "demo"}});
    REQUIRE(r.status == 201);
  }
}

// Every task id of one walk through the pages; checks each answer's size.
std::vector<std::int64_t> walk(http_client& client, const std::string& query,
                               std::size_t max_answer_bytes, bool* sizes_ok) {
  std::vector<std::int64_t> ids;
  std::string after;
  for (int pages = 0; pages < 10000; ++pages) {
    auto r = client.request("GET", "/v1/tasks?" + query + after);
    if (r.status != 200 || r.raw_body.size() > max_answer_bytes) *sizes_ok = false;
    if (r.status != 200) break;
    for (const auto& t : r.body["tasks"]) ids.push_back(t["id"].get<std::int64_t>());
    if (r.body["next"].is_null()) break;
    after = "&after=" + std::to_string(r.body["next"].get<std::int64_t>());
  }
  return ids;
}

}  // namespace

TEST_CASE("task listings are bounded summaries and the cursor visits every task once",
          "[server][listing]") {
  test_database db;
  server_process server(db.url());
  http_client admin(server.url(), admin_token);
  REQUIRE(admin.request("POST", "/v1/repos",
                        {{"name", "demo"}, {"url", "https://git.example.com/demo.git"}})
              .status == 201);
  {
    std::vector<std::thread> adders;
    for (int t = 0; t < 4; ++t)
      adders.emplace_back([t, &server] {
        add_tasks(server.url(), t * (big_tasks / 4), big_tasks / 4, big_body_bytes);
      });
    for (auto& a : adders) a.join();
  }
  auto reader = make_agent(server.url(), "reader", "reviewer");
  http_client client(server.url(), reader);

  {  // a listing of every task is summaries: no body, its size instead
    auto r = client.request("GET", "/v1/tasks?limit=1000");
    REQUIRE(r.status == 200);
    REQUIRE(r.body["tasks"].size() == big_tasks);
    CHECK(r.raw_body.size() < big_tasks * 1024);  // 30 MiB of bodies, under 120 KiB answered
    for (const auto& t : r.body["tasks"]) {
      CHECK_FALSE(t.contains("body"));
      CHECK(t["body_bytes"] == big_body_bytes);
      CHECK(t.contains("title"));
    }
    CHECK(r.body["next"].is_null());
    // The body is on the task itself.
    auto id = r.body["tasks"][0]["id"].get<std::int64_t>();
    auto shown = client.request("GET", "/v1/tasks/" + std::to_string(id));
    CHECK(shown.body["task"]["body"].get<std::string>().size() == big_body_bytes);
  }

  {  // bodies when asked, at most 20 a page
    auto r = client.request("GET", "/v1/tasks?fields=body");
    REQUIRE(r.status == 200);
    CHECK(r.body["tasks"].size() == 20);
    CHECK(r.body["tasks"][0]["body"].get<std::string>().size() == big_body_bytes);
    CHECK_FALSE(r.body["next"].is_null());
    CHECK(client.request("GET", "/v1/tasks?fields=body&limit=21").status == 400);
  }

  {  // paging while tasks are added visits every earlier task exactly once
    std::set<std::int64_t> before;
    const auto listed = client.request("GET", "/v1/tasks?limit=1000");
    for (const auto& t : listed.body["tasks"]) before.insert(t["id"].get<std::int64_t>());
    REQUIRE(before.size() == big_tasks);
    std::atomic<bool> adding{true};
    std::thread adder([&server, &adding] {
      add_tasks(server.url(), 1000, 60, 100);
      adding = false;
    });
    std::vector<std::vector<std::int64_t>> walks;
    bool sizes_ok = true;
    do {
      walks.push_back(walk(client, "limit=7", 7 * 2048, &sizes_ok));
    } while (adding && walks.size() < 50);
    adder.join();
    walks.push_back(walk(client, "fields=body&limit=9", 9 * (big_body_bytes + 2048), &sizes_ok));
    CHECK(sizes_ok);
    for (const auto& ids : walks) {
      std::multiset<std::int64_t> seen(ids.begin(), ids.end());
      for (auto id : seen) CHECK(seen.count(id) == 1);   // never twice
      for (auto id : before) CHECK(seen.count(id) == 1);  // every earlier task
    }
  }

  {  // peak server memory under four concurrent full listings stays bounded
    const auto everything = client.request("GET", "/v1/tasks?limit=1000");
    const std::size_t total = everything.body["tasks"].size();  // the big ones and the small
    REQUIRE(total > big_tasks);
    std::vector<std::thread> readers;
    std::atomic<int> complete_walks{0};
    std::atomic<bool> sizes_ok{true};
    for (int r = 0; r < 4; ++r)
      readers.emplace_back([r, total, &server, &reader, &complete_walks, &sizes_ok] {
        http_client mine(server.url(), reader);
        for (int round = 0; round < 3; ++round) {
          bool ok = true;
          auto with_bodies = walk(mine, "fields=body", 20 * (big_body_bytes + 2048), &ok);
          auto summaries = walk(mine, "limit=1000", 1000 * 2048, &ok);
          if (!ok) sizes_ok = false;
          if (with_bodies.size() == total && summaries.size() == total)
            ++complete_walks;
        }
        (void)r;
      });
    for (auto& t : readers) t.join();
    CHECK(sizes_ok);
    CHECK(complete_walks == 12);
    const long peak = peak_rss_kib(server.pid());
    INFO("server peak RSS " << peak << " KiB, bound " << peak_rss_bound_kib << " KiB");
    REQUIRE(peak > 0);
    CHECK(peak < peak_rss_bound_kib);
  }

  {  // listing refusals name the parameter
    struct refusal {
      std::string target;
      std::string names;
    };
    const std::vector<refusal> table = {
        {"/v1/tasks?fields=everything", "'fields'"},
        {"/v1/tasks?fields=body&limit=100", "'limit'"},
        {"/v1/tasks?limit=1001", "'limit'"},
        {"/v1/tasks?cursor=abc", "'cursor'"},
        {"/v1/tasks?after=-3", "'after'"},
        {"/v1/disagreements?limit=101", "'limit'"},
        {"/v1/disagreements?after=x", "'after'"},
    };
    for (const auto& row : table) {
      auto r = client.request("GET", row.target);
      INFO(row.target << " -> " << r.raw_body);
      CHECK(r.status == 400);
      CHECK(r.error_message().find(row.names) != std::string::npos);
    }
    auto page = client.request("GET", "/v1/disagreements?status=all&limit=1");
    CHECK(page.status == 200);
    CHECK(page.body.contains("next"));
  }
}
