// The bad-input table: every malformed body is refused as invalid_request with
// a message, before anything could be written.
#include <catch2/catch.hpp>

#include "core/requests.hpp"

using nlohmann::json;
using namespace agentq;

namespace {

json good_task() { return {{"title", "fix the bug"}, {"body", "details"}, {"repo", "demo"}}; }

json with(json base, const std::string& key, json value) {
  base[key] = std::move(value);
  return base;
}

json without(json base, const std::string& key) {
  base.erase(key);
  return base;
}

}  // namespace

TEST_CASE("a good task parses with the contract's defaults", "[requests]") {
  auto task = parse_new_task(good_task());
  REQUIRE(task);
  CHECK(task->title == "fix the bug");
  CHECK(task->queue == "default");
  CHECK(task->priority == 0);
  CHECK(task->max_attempts == 3);
  CHECK(task->max_review_rounds == 3);
  CHECK_FALSE(task->run_after);
  CHECK(task->labels == json::array());

  auto full = parse_new_task(json{{"title", "t"},
                                  {"body", ""},
                                  {"repo", "demo.v2"},
                                  {"queue", "backend"},
                                  {"priority", -5},
                                  {"run_after", "2026-01-02T03:04:05.123+02:00"},
                                  {"depends_on", {3, 4, 3}},
                                  {"max_attempts", 7},
                                  {"max_review_rounds", 1},
                                  {"idempotency_key", "k-1"},
                                  {"labels", {"ui", "urgent"}}});
  REQUIRE(full);
  CHECK(full->depends_on == std::vector<std::int64_t>{3, 4});
  CHECK(full->priority == -5);
  CHECK(*full->idempotency_key == "k-1");
}

TEST_CASE("bad task bodies are refused with a reason", "[requests]") {
  const json bad[] = {
      json::array(),
      json("a string"),
      json(42),
      nullptr,
      without(good_task(), "title"),
      without(good_task(), "body"),
      without(good_task(), "repo"),
      with(good_task(), "title", ""),
      with(good_task(), "title", "   "),
      with(good_task(), "title", 5),
      with(good_task(), "title", std::string(501, 'x')),
      with(good_task(), "title", std::string("nul\0byte", 8)),
      with(good_task(), "body", json::object()),
      with(good_task(), "repo", "../etc"),
      with(good_task(), "repo", "demo; drop table tasks"),
      with(good_task(), "repo", "-rf"),
      with(good_task(), "queue", "with space"),
      with(good_task(), "queue", ""),
      with(good_task(), "priority", "high"),
      with(good_task(), "priority", 1.5),
      with(good_task(), "priority", true),
      with(good_task(), "priority", 1e12),
      with(good_task(), "priority", 99999999999LL),
      with(good_task(), "run_after", "tomorrow"),
      with(good_task(), "run_after", "2026-13-01T00:00:00Z"),
      with(good_task(), "run_after", "2026-01-01T00:00:00"),
      with(good_task(), "run_after", "2026-01-01T00:00:00Z' or '1'='1"),
      // The right shape, but no such time (the database would refuse them).
      with(good_task(), "run_after", "2026-02-31T00:00:00Z"),
      with(good_task(), "run_after", "2026-02-29T00:00:00Z"),
      with(good_task(), "run_after", "2026-04-31T00:00:00Z"),
      with(good_task(), "run_after", "1900-02-29T00:00:00Z"),
      with(good_task(), "run_after", "0000-01-01T00:00:00Z"),
      with(good_task(), "run_after", "9999-12-31T23:59:59-23:59"),
      with(good_task(), "run_after", "2026-01-01T00:00:00+15:00"),
      with(good_task(), "run_after", "0001-01-01T00:30:00+01:00"),
      with(good_task(), "depends_on", 3),
      with(good_task(), "depends_on", {"3"}),
      with(good_task(), "depends_on", {0}),
      with(good_task(), "depends_on", {-1}),
      with(good_task(), "depends_on", json::array({1.5})),
      with(good_task(), "max_attempts", 0),
      with(good_task(), "max_attempts", 101),
      with(good_task(), "max_review_rounds", -1),
      with(good_task(), "idempotency_key", ""),
      with(good_task(), "idempotency_key", 7),
      with(good_task(), "labels", "ui"),
      with(good_task(), "labels", {1}),
      with(good_task(), "labels", {""}),
      with(good_task(), "extra", 1),
      with(good_task(), "Title", "case matters"),
  };
  for (const auto& body : bad) {
    INFO(body.dump());
    auto parsed = parse_new_task(body);
    REQUIRE_FALSE(parsed);
    CHECK(parsed.error().code == error_code::invalid_request);
    CHECK_FALSE(parsed.error().message.empty());
  }
}

TEST_CASE("holder calls need a positive integer token and valid fields", "[requests]") {
  const json good_submit = {{"token", 12},
                            {"branch", "agentq/1/12"},
                            {"commit", std::string(40, 'a')},
                            {"summary", "done"}};
  REQUIRE(parse_submit_request(good_submit));

  const json bad_submits[] = {
      with(good_submit, "token", "12"),
      with(good_submit, "token", 0),
      with(good_submit, "token", -3),
      with(good_submit, "token", 1.0),
      with(good_submit, "token", 18446744073709551615ULL),
      without(good_submit, "token"),
      with(good_submit, "branch", "agentq/../main"),
      with(good_submit, "branch", "-delete"),
      with(good_submit, "branch", "a b"),
      with(good_submit, "branch", "x.lock"),
      with(good_submit, "branch", "refs//x"),
      with(good_submit, "commit", std::string(40, 'A')),
      with(good_submit, "commit", std::string(39, 'a')),
      with(good_submit, "commit", "HEAD"),
      without(good_submit, "summary"),
      with(good_submit, "by_the_way", true),
  };
  for (const auto& body : bad_submits) {
    INFO(body.dump());
    CHECK_FALSE(parse_submit_request(body));
  }

  CHECK(parse_heartbeat_request(json{{"token", 5}, {"progress", "compiling"}}));
  CHECK_FALSE(parse_heartbeat_request(json{{"progress", "compiling"}}));
  CHECK_FALSE(parse_heartbeat_request(json{{"token", 5}, {"progress", 3}}));

  auto release = parse_release_request(json{{"token", 5}, {"reason", "flaky"}});
  REQUIRE(release);
  CHECK(release->retry);
  CHECK_FALSE(parse_release_request(json{{"token", 5}, {"retry", "yes"}}));

  REQUIRE(parse_review_request(json{{"token", 5}, {"verdict", "approve"}}));
  CHECK_FALSE(parse_review_request(json{{"token", 5}, {"verdict", "reject"}}));  // no reasons
  CHECK_FALSE(parse_review_request(json{{"token", 5}, {"verdict", "reject"}, {"reasons", " "}}));
  CHECK_FALSE(parse_review_request(json{{"token", 5}, {"verdict", "maybe"}, {"reasons", "x"}}));
}

TEST_CASE("claim requests keep wait and lease in range", "[requests]") {
  auto empty = parse_claim_request(json::object());
  REQUIRE(empty);
  CHECK(empty->wait_s == 0);
  CHECK_FALSE(empty->lease_s);
  CHECK(parse_claim_request(json{{"queues", {"a", "b"}}, {"wait_s", 60}, {"lease_s", 5}}));
  CHECK_FALSE(parse_claim_request(json{{"wait_s", 61}}));
  CHECK_FALSE(parse_claim_request(json{{"wait_s", -1}}));
  CHECK_FALSE(parse_claim_request(json{{"lease_s", 4}}));
  CHECK_FALSE(parse_claim_request(json{{"lease_s", 3601}}));
  CHECK_FALSE(parse_claim_request(json{{"queues", "a"}}));
  CHECK_FALSE(parse_claim_request(json{{"queues", {"a b"}}}));
}

TEST_CASE("agents and repos and resolutions are validated", "[requests]") {
  CHECK(parse_new_agent(json{{"name", "claude-1@laptop"}, {"role", "worker"}}));
  CHECK_FALSE(parse_new_agent(json{{"name", "x"}, {"role", "root"}}));
  CHECK_FALSE(parse_new_agent(json{{"name", "x y"}, {"role", "worker"}}));
  CHECK_FALSE(parse_new_agent(json{{"name", "'; drop table agents; --"}, {"role", "worker"}}));
  // The server's own actors in the event history.
  for (const char* name : {"admin", "reaper", "merger", "system", "Admin", "REAPER"}) {
    INFO(name);
    auto refused = parse_new_agent(json{{"name", name}, {"role", "worker"}});
    REQUIRE_FALSE(refused);
    CHECK(refused.error().message.find("reserved") != std::string::npos);
  }
  CHECK(parse_new_agent(json{{"name", "admin-2"}, {"role", "admin"}}));
  CHECK(parse_new_agent(json{{"name", "reaper1"}, {"role", "worker"}}));

  CHECK(parse_new_repo(json{{"name", "demo"}, {"url", "/srv/git/demo.git"}}));
  CHECK(parse_new_repo(json{{"name", "demo"}, {"url", "file:///srv/demo.git"}}));
  CHECK(parse_new_repo(json{{"name", "demo"}, {"url", "git@example.com:team/demo.git"}}));
  CHECK(parse_new_repo(json{{"name", "d"}, {"url", "https://example.com/d.git"},
                            {"base_branch", "release/2.x"}}));
  CHECK_FALSE(parse_new_repo(json{{"name", "demo"}, {"url", "relative/path"}}));
  CHECK_FALSE(parse_new_repo(json{{"name", "demo"}, {"url", "--upload-pack=evil"}}));
  CHECK_FALSE(parse_new_repo(json{{"name", "demo"}, {"url", "/srv/x\nfoo"}}));
  CHECK_FALSE(parse_new_repo(json{{"name", "demo"}, {"url", "/srv/x"}, {"base_branch", "a..b"}}));

  CHECK(parse_resolve_request(json{{"decision", "worker_right"}, {"note", "spec was fine"}}));
  CHECK_FALSE(parse_resolve_request(json{{"decision", "nobody"}}));

  CHECK(parse_note_request(nullptr, "note"));
  CHECK(parse_note_request(json{{"note", "try again"}}, "note"));
  CHECK_FALSE(parse_note_request(json{{"reason", "x"}}, "note"));
}

TEST_CASE("name and branch and time shapes", "[requests]") {
  CHECK(claim_branch(7, 42) == "agentq/7/42");
  CHECK(is_valid_branch_name(claim_branch(7, 42)));
  CHECK(is_valid_branch_name("main"));
  CHECK_FALSE(is_valid_branch_name(""));
  CHECK_FALSE(is_valid_branch_name("/main"));
  CHECK_FALSE(is_valid_branch_name("main/"));
  CHECK_FALSE(is_valid_branch_name("ma~in"));
  CHECK_FALSE(is_valid_branch_name("ma^in"));
  CHECK_FALSE(is_valid_branch_name("ma:in"));
  CHECK(is_rfc3339("2026-11-23T11:50:31Z"));
  CHECK(is_rfc3339("2026-11-23T11:50:31.123456-05:30"));
  CHECK_FALSE(is_rfc3339("2026-11-23"));
  CHECK_FALSE(impossible_time("2024-02-29T00:00:00Z"));  // a leap year
  CHECK_FALSE(impossible_time("2000-02-29T00:00:00Z"));
  CHECK_FALSE(impossible_time("0001-01-01T00:00:00Z"));
  CHECK_FALSE(impossible_time("9999-12-31T23:59:59Z"));
  CHECK_FALSE(impossible_time("2026-06-30T12:00:00-14:00"));
  CHECK(impossible_time("2026-02-29T00:00:00Z"));
  CHECK(impossible_time("2100-02-29T00:00:00Z"));
  CHECK(impossible_time("2026-02-31T00:00:00Z")->find("28 days") != std::string::npos);
  CHECK(is_valid_commit("0123456789abcdef0123456789abcdef01234567"));
  CHECK_FALSE(is_valid_commit("0123456789abcdef0123456789abcdef0123456g"));
}
