#include <set>

#include <catch2/catch.hpp>

#include "core/secrets.hpp"

TEST_CASE("sha256 matches the published test vectors", "[secrets]") {
  CHECK(agentq::sha256_hex("") ==
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(agentq::sha256_hex("abc") ==
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_CASE("generated tokens are long and prefixed and do not repeat", "[secrets]") {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    auto token = agentq::generate_token();
    REQUIRE(token.size() == 3 + 64);
    REQUIRE(token.rfind("aq_", 0) == 0);
    REQUIRE(seen.insert(token).second);
  }
}

TEST_CASE("constant_time_equal compares whole secrets", "[secrets]") {
  CHECK(agentq::constant_time_equal("secret", "secret"));
  CHECK_FALSE(agentq::constant_time_equal("secret", "secreT"));
  CHECK_FALSE(agentq::constant_time_equal("secret", "secret2"));
  CHECK_FALSE(agentq::constant_time_equal("secret2", "secret"));
  CHECK_FALSE(agentq::constant_time_equal("", "x"));
  CHECK(agentq::constant_time_equal("", ""));
}
