// The handler's small parsers: paths, query strings, ids, nesting depth.
#include <catch2/catch.hpp>

#include "http/request_parsing.hpp"

using namespace agentq;

TEST_CASE("paths split into segments - empty segments make no path", "[parsing]") {
  CHECK(split_path("/v1/tasks/12/submit") ==
        std::vector<std::string>{"v1", "tasks", "12", "submit"});
  CHECK(split_path("/")->empty());
  CHECK_FALSE(split_path("/v1//tasks"));
  CHECK_FALSE(split_path("/v1/tasks/"));
  CHECK_FALSE(split_path("v1/tasks"));
  CHECK_FALSE(split_path(""));
}

TEST_CASE("query strings decode - broken escapes are refused", "[parsing]") {
  auto q = parse_query("state=queued&queue=a%2Db&note=two+words&flag&=x");
  REQUIRE(q);
  CHECK((*q)["state"] == "queued");
  CHECK((*q)["queue"] == "a-b");
  CHECK((*q)["note"] == "two words");
  CHECK((*q)["flag"].empty());
  CHECK_FALSE(parse_query("a=%4"));
  CHECK_FALSE(parse_query("a=%zz"));
  CHECK(percent_decode("%41%62") == std::optional<std::string>("Ab"));
}

TEST_CASE("ids are positive integers that fit", "[parsing]") {
  CHECK(parse_positive("42") == std::optional<std::int64_t>(42));
  CHECK_FALSE(parse_positive("0"));
  CHECK_FALSE(parse_positive("-3"));
  CHECK_FALSE(parse_positive("12abc"));
  CHECK_FALSE(parse_positive(" 1"));
  CHECK_FALSE(parse_positive(""));
  CHECK_FALSE(parse_positive("9999999999999999999999"));
}

TEST_CASE("nesting depth is counted outside strings", "[parsing]") {
  CHECK(nesting_within(R"({"a": [1, {"b": [2]}]})", 4));
  CHECK_FALSE(nesting_within(R"({"a": [1, {"b": [2]}]})", 3));
  CHECK(nesting_within(R"({"a": "[[[[[[[[\"[[[["})", 1));
  CHECK_FALSE(nesting_within(std::string(100, '['), 32));
}
