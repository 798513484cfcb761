// Retention ages as people write them (core/duration.hpp): a table.
#include <catch2/catch.hpp>

#include "core/duration.hpp"

using namespace agentq;

TEST_CASE("retention ages parse as a number and a unit", "[retention][duration]") {
  const std::vector<std::pair<std::string, std::int64_t>> good = {
      {"1s", 1},           {"45s", 45},        {"90m", 5400},
      {"12h", 43200},      {"30d", 2592000},   {"36500d", 36500LL * 86400},
      {"0001d", 86400},
  };
  for (const auto& [text, seconds] : good) {
    INFO(text);
    CHECK(parse_duration_s(text, "--x") == seconds);
    CHECK(parse_retention_age(text, "--x") == seconds);
    CHECK(parse_disagreement_age(text, "--x") == seconds);
  }
  CHECK_FALSE(parse_retention_age("0", "--x"));
  CHECK_FALSE(parse_retention_age("off", "--x"));
  CHECK_FALSE(parse_disagreement_age("forever", "--x"));
}

TEST_CASE("bad retention ages are refused naming the option", "[retention][duration]") {
  for (const std::string text : {"", "d", "30", "30 d", "30D", "1w", "-1d", "+1d", "1.5h", "0s",
                                 "0d", "36501d", "9999999999999d", "forever", "off ", " 30d"}) {
    INFO("'" << text << "'");
    CHECK_THROWS_WITH(parse_retention_age(text, "--retain-finished"),
                      Catch::StartsWith("--retain-finished must be"));
  }
  for (const std::string text : {"0", "off", "never", "30"}) {
    INFO("'" << text << "'");
    CHECK_THROWS_WITH(parse_disagreement_age(text, "--retain-disagreements"),
                      Catch::StartsWith("--retain-disagreements must be"));
  }
}

TEST_CASE("durations print in their largest whole unit", "[retention][duration]") {
  CHECK(format_duration(2592000) == "30d");
  CHECK(format_duration(5400) == "90m");
  CHECK(format_duration(7200) == "2h");
  CHECK(format_duration(61) == "61s");
}
