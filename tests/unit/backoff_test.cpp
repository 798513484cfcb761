#include <catch2/catch.hpp>

#include "core/backoff.hpp"

using agentq::backoff_policy;
using agentq::retry_backoff_s;

TEST_CASE("retry backoff doubles from the base and stops at the cap", "[backoff]") {
  backoff_policy policy{5, 60};
  CHECK(retry_backoff_s(1, policy) == 5);
  CHECK(retry_backoff_s(2, policy) == 10);
  CHECK(retry_backoff_s(3, policy) == 20);
  CHECK(retry_backoff_s(4, policy) == 40);
  CHECK(retry_backoff_s(5, policy) == 60);
  CHECK(retry_backoff_s(100, policy) == 60);
}

TEST_CASE("retry backoff of zero base is no backoff and odd attempts are safe", "[backoff]") {
  CHECK(retry_backoff_s(3, backoff_policy{0, 60}) == 0);
  CHECK(retry_backoff_s(0, backoff_policy{5, 60}) == 5);
  CHECK(retry_backoff_s(-4, backoff_policy{5, 60}) == 5);
  CHECK(retry_backoff_s(1000000, backoff_policy{}) == backoff_policy{}.max_s);
}
