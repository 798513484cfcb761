// The submit check reads one ref: its cost must not grow with the
// repository's branches (issue 9: 478 ms at 10,000 branches before). Checks
// the answers with 10,000 other branches and prints the p50 of the check
// against an empty repository and against the crowded one (loose and packed
// refs). Timings are printed, not asserted: shared CI machines vary.
#include <algorithm>
#include <chrono>
#include <fstream>
#include <iostream>
#include <vector>

#include <catch2/catch.hpp>

#include "git/repo_gateway.hpp"
#include "git_fixture.hpp"

using agentq::git::repo_gateway;
using agentq::git::repo_ref;
using agentq::testing::git_fixture;
using agentq::testing::quote;
using agentq::testing::sh;

namespace {

constexpr int other_branches = 10000;
constexpr int samples = 300;

// p50 of `samples` checks, in microseconds.
double p50_us(repo_gateway& gateway, const repo_ref& repo, const std::string& branch,
              const std::string& commit) {
  std::vector<double> times;
  for (int i = 0; i < samples; ++i) {
    auto start = std::chrono::steady_clock::now();
    bool tip = gateway.branch_tip_is(repo, branch, commit);
    times.push_back(
        std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start)
            .count());
    REQUIRE(tip);
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

// 10,000 branches agentq/<n>/1 at `commit`, written in one update-ref.
void add_branches(const git_fixture& g, const std::string& commit) {
  auto script = g.dir() / "refs.txt";
  {
    std::ofstream out(script);
    for (int n = 1000; n < 1000 + other_branches; ++n)
      out << "create refs/heads/agentq/" << n << "/1 " << commit << "\n";
  }
  sh("git -C " + quote(g.origin()) + " update-ref --stdin < " + quote(script.string()));
}

}  // namespace

TEST_CASE("the submit check with 10,000 other branches: right answers, cost printed") {
  git_fixture g;
  auto mine = g.commit("agentq/7/3", "main", {{"mine.txt", "mine\n"}}, "the claim's work");
  repo_gateway gateway(g.cache());
  repo_ref repo{"proj", g.origin()};
  const double empty = p50_us(gateway, repo, "agentq/7/3", mine);

  add_branches(g, g.tip("main"));
  REQUIRE(std::stoi(sh("git -C " + quote(g.origin()) + " for-each-ref refs/heads | wc -l")) >
          other_branches);
  CHECK(gateway.branch_tip_is(repo, "agentq/7/3", mine));
  CHECK_FALSE(gateway.branch_tip_is(repo, "agentq/7/3", g.tip("main")));
  CHECK_FALSE(gateway.branch_tip_is(repo, "agentq/7/4", mine));      // no such branch
  CHECK(gateway.branch_tip_is(repo, "agentq/5000/1", g.tip("main")));  // one of the crowd
  const double loose = p50_us(gateway, repo, "agentq/7/3", mine);

  sh("git -C " + quote(g.origin()) + " pack-refs --all");
  CHECK(gateway.branch_tip_is(repo, "agentq/7/3", mine));
  CHECK_FALSE(gateway.branch_tip_is(repo, "agentq/7/4", mine));
  CHECK(gateway.branch_tip_is(repo, "agentq/5000/1", g.tip("main")));
  const double packed = p50_us(gateway, repo, "agentq/7/3", mine);

  std::cout << "submit check p50: empty repository " << empty << " us, " << other_branches
            << " loose branches " << loose << " us (" << loose / empty << "x), "
            << other_branches << " packed branches " << packed << " us (" << packed / empty
            << "x)" << std::endl;
  WARN("submit check p50 (us): empty " << empty << ", 10k loose " << loose << ", 10k packed "
                                       << packed);
  // The mirror was never touched: a local check fetches nothing.
  CHECK_FALSE(std::filesystem::exists(gateway.mirror_path(repo)));
}
