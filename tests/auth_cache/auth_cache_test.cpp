// The auth cache itself (queue/http/auth_cache.hpp), no database: a clock the
// test moves instead of sleeping, so nothing here depends on timing.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "core/secrets.hpp"
#include "http/auth_cache.hpp"

using namespace agentq;
using namespace std::chrono_literals;

namespace {

struct moved_clock {
  auth_cache::clock::time_point now = auth_cache::clock::time_point(1000s);
  auth_cache::now_fn fn() {
    return [this] { return now; };
  }
};

auth_cache_config five_seconds() {
  auth_cache_config config;
  config.expiry = 5s;
  config.keep_unused = 60s;
  return config;
}

const agent_identity worker{7, "w-7", agent_role::worker};

}  // namespace

TEST_CASE("a verified token answers until its expiry, then the database is asked again",
          "[auth-cache]") {
  moved_clock clock;
  auth_cache cache(five_seconds(), clock.fn());
  const auto hash = sha256_hex("aq_token");
  CHECK_FALSE(cache.find(hash));  // never verified: ask the database
  cache.remember(hash, worker, cache.epoch());
  clock.now += 4s;
  auto found = cache.find(hash);
  REQUIRE(found);
  CHECK(found->name == "w-7");
  CHECK(found->role == agent_role::worker);
  clock.now += 1s;  // 5 s after the verification: no longer believed
  CHECK_FALSE(cache.find(hash));
  CHECK(cache.size() == 0);
}

TEST_CASE("forget_agent: a revocation through this server works at once, and an answer read "
          "before it is not remembered",
          "[auth-cache]") {
  moved_clock clock;
  auth_cache cache(five_seconds(), clock.fn());
  const auto mine = sha256_hex("aq_mine"), other = sha256_hex("aq_other");
  cache.remember(mine, worker, cache.epoch());
  cache.remember(other, {8, "w-8", agent_role::worker}, cache.epoch());
  const auto before_revoke = cache.epoch();  // a query that began before the revoke
  cache.forget_agent("w-7");
  CHECK_FALSE(cache.find(mine));
  CHECK(cache.find(other));  // someone else's token stays
  cache.remember(mine, worker, before_revoke);  // its answer may predate the revoke
  CHECK_FALSE(cache.find(mine));
  cache.remember(mine, worker, cache.epoch());  // asked after it: what the database says
  CHECK(cache.find(mine));
}

TEST_CASE("the refresh keeps tokens in use, drops revoked ones and takes a changed role",
          "[auth-cache]") {
  moved_clock clock;
  auth_cache cache(five_seconds(), clock.fn());
  const auto live = sha256_hex("aq_live"), revoked = sha256_hex("aq_revoked"),
             promoted = sha256_hex("aq_promoted"), fresh = sha256_hex("aq_fresh");
  cache.remember(live, worker, cache.epoch());
  cache.remember(revoked, {8, "w-8", agent_role::worker}, cache.epoch());
  cache.remember(promoted, {9, "w-9", agent_role::worker}, cache.epoch());
  clock.now += 2s;
  cache.remember(fresh, {10, "w-10", agent_role::worker}, cache.epoch());

  auto due = cache.refresh_due();
  // Verified 2 s ago (more than a third of the expiry): asked; just now: not.
  CHECK(due.token_hashes.size() == 3);
  CHECK(std::find(due.token_hashes.begin(), due.token_hashes.end(), fresh) ==
        due.token_hashes.end());
  // The database's answer: "revoked" is gone, "promoted" is a reviewer now.
  cache.refreshed(due, {{live, worker}, {promoted, {9, "w-9", agent_role::reviewer}}});
  CHECK_FALSE(cache.find(revoked));
  REQUIRE(cache.find(promoted));
  CHECK(cache.find(promoted)->role == agent_role::reviewer);

  clock.now += 4s;  // 6 s after the first verification, 4 s after the refresh
  CHECK(cache.find(live));
  CHECK(cache.find(fresh));
  clock.now += 1s;  // 5 s after the refresh: no longer believed
  CHECK_FALSE(cache.find(live));
}

TEST_CASE("a refresh does not bring back a token forgotten while it ran", "[auth-cache]") {
  moved_clock clock;
  auth_cache cache(five_seconds(), clock.fn());
  const auto hash = sha256_hex("aq_token");
  cache.remember(hash, worker, cache.epoch());
  clock.now += 3s;
  auto due = cache.refresh_due();
  REQUIRE(due.token_hashes.size() == 1);
  cache.forget_agent("w-7");                 // revoked through this server meanwhile
  cache.refreshed(due, {{hash, worker}});   // the refresh read the row before the revoke
  CHECK_FALSE(cache.find(hash));
}

TEST_CASE("tokens nobody uses are not refreshed, and the cache stays within max_entries",
          "[auth-cache]") {
  moved_clock clock;
  auto config = five_seconds();
  config.keep_unused = 10s;
  config.max_entries = 3;
  auth_cache cache(config, clock.fn());
  for (int i = 0; i < 5; ++i) {
    cache.remember(sha256_hex("aq_" + std::to_string(i)),
                   {i, "w-" + std::to_string(i), agent_role::worker}, cache.epoch());
    clock.now += 1ms;
  }
  CHECK(cache.size() == 3);
  CHECK(cache.find(sha256_hex("aq_4")));  // the newest stay
  CHECK_FALSE(cache.find(sha256_hex("aq_0")));

  // aq_4 is used every 2 s and refreshed; the others are never used again.
  for (int step = 0; step < 6; ++step) {
    clock.now += 2s;
    REQUIRE(cache.find(sha256_hex("aq_4")));
    auto due = cache.refresh_due();
    std::map<std::string, agent_identity> live;
    for (const auto& h : due.token_hashes) live.emplace(h, worker);
    cache.refreshed(due, live);
  }
  CHECK(cache.size() == 1);
}

TEST_CASE("expiry 0 turns the cache off", "[auth-cache]") {
  auth_cache_config config;
  config.expiry = 0s;
  auth_cache cache(config);
  CHECK_FALSE(cache.enabled());
  cache.remember(sha256_hex("aq_token"), worker, cache.epoch());
  CHECK_FALSE(cache.find(sha256_hex("aq_token")));
  CHECK(cache.refresh_due().token_hashes.empty());
}

TEST_CASE("many threads authenticating, revoking and refreshing at once: every answer is the "
          "identity its token was verified as",
          "[auth-cache][concurrency]") {
  auth_cache_config config;
  config.expiry = 60s;
  config.max_entries = 64;  // smaller than the tokens: eviction runs too
  auth_cache cache(config);
  const int tokens = 100;
  std::vector<std::string> hashes;
  for (int i = 0; i < tokens; ++i) hashes.push_back(sha256_hex("aq_" + std::to_string(i)));
  std::atomic<int> wrong{0}, hits{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int n = 0; n < 5000; ++n) {
        const int i = (n * 7 + t * 13) % tokens;
        const agent_identity who{i, "a-" + std::to_string(i), agent_role::worker};
        if (auto found = cache.find(hashes[static_cast<std::size_t>(i)])) {
          ++hits;
          if (found->id != i || found->name != who.name) ++wrong;
        } else {
          cache.remember(hashes[static_cast<std::size_t>(i)], who, cache.epoch());
        }
        if (n % 500 == t) cache.forget_agent("a-" + std::to_string(i));
        if (n % 250 == 0) {
          auto due = cache.refresh_due();
          std::map<std::string, agent_identity> live;
          for (const auto& h : due.token_hashes)
            for (int k = 0; k < tokens; ++k)
              if (hashes[static_cast<std::size_t>(k)] == h)
                live.emplace(h, agent_identity{k, "a-" + std::to_string(k), agent_role::worker});
          cache.refreshed(due, live);
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  CHECK(wrong == 0);
  CHECK(hits > 0);
  CHECK(cache.size() <= 64);
}
