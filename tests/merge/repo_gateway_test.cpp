// The repository gateway against real bare repositories made with git.
#include <catch2/catch.hpp>

#include "git/repo_gateway.hpp"
#include "git_fixture.hpp"

using agentq::git::repo_gateway;
using agentq::git::repo_ref;
using agentq::testing::git_fixture;

TEST_CASE("branch_tip_is answers true or false and false for an unknown branch") {
  git_fixture g;
  auto first = g.commit("agentq/1/1", "main", {{"a.txt", "one\n"}}, "one");
  auto second = g.commit("agentq/1/1", "agentq/1/1", {{"a.txt", "two\n"}}, "two");
  repo_gateway gateway(g.cache());
  repo_ref repo{"proj", g.origin()};

  CHECK(gateway.branch_tip_is(repo, "agentq/1/1", second));
  CHECK_FALSE(gateway.branch_tip_is(repo, "agentq/1/1", first));  // no longer the tip
  CHECK_FALSE(gateway.branch_tip_is(repo, "agentq/9/9", second));  // no such branch
  CHECK(gateway.branch_tip_is(repo, "main", g.tip("main")));
  // A local check reads the one ref in place: no mirror. A fetch makes it
  // where the header says, bare.
  CHECK_FALSE(std::filesystem::exists(g.cache() / "proj"));
  gateway.fetch(repo, {"main"});
  CHECK(std::filesystem::exists(g.cache() / "proj" / "HEAD"));
}

TEST_CASE("branch_tip_is works with file:// URLs and sees a branch move") {
  git_fixture g;
  auto first = g.commit("feature", "main", {{"a.txt", "one\n"}}, "one");
  repo_gateway gateway(g.cache());
  repo_ref repo{"proj", "file://" + g.origin()};
  CHECK(gateway.branch_tip_is(repo, "feature", first));
  auto rewritten = g.commit("feature", "main", {{"b.txt", "other\n"}}, "rewritten");
  CHECK_FALSE(gateway.branch_tip_is(repo, "feature", first));
  CHECK(gateway.branch_tip_is(repo, "feature", rewritten));
}

TEST_CASE("diff_stats counts a known change against the merge base") {
  git_fixture g;
  g.commit("main", "main",
           {{"keep.txt", "1\n2\n3\n"}, {"gone.txt", "x\ny\n"}, {"src/old.txt", "o\n"}},
           "base files");
  auto change = g.commit("agentq/4/7", "main",
                         {{"keep.txt", "1\ntwo\n3\n4\n5\n"},   // 1 line changed, 2 added
                          {"gone.txt", std::nullopt},          // 2 lines deleted
                          {"src/new.txt", "a\nb\nc\nd\n"}},    // 4 lines added
                         "the change");
  // The base moves on after the branch was cut: not part of the change.
  g.commit("main", "main", {{"later.txt", "l1\nl2\nl3\n"}}, "later on main");

  repo_gateway gateway(g.cache());
  repo_ref repo{"proj", g.origin()};
  auto stats = gateway.diff_stats(repo, "main", change, std::string("agentq/4/7"));
  INFO(stats.dump(2));
  CHECK(stats["files_changed"] == 3);
  CHECK(stats["insertions"] == 7);
  CHECK(stats["deletions"] == 3);
  REQUIRE(stats["files"].size() == 3);
  // gitcore/diff_stats.hpp's shape, the one the reviewer's task file has too.
  CHECK(stats["commit"] == change);
  CHECK(stats["base"].is_string());
  CHECK(stats["files_truncated"] == false);
  CHECK(stats["files"][0] == nlohmann::json({{"path", "gone.txt"}, {"status", "D"},
                                             {"insertions", 0}, {"deletions", 2}}));
  CHECK(stats["files"][1] == nlohmann::json({{"path", "keep.txt"}, {"status", "M"},
                                             {"insertions", 3}, {"deletions", 1}}));
  CHECK(stats["files"][2] == nlohmann::json({{"path", "src/new.txt"}, {"status", "A"},
                                             {"insertions", 4}, {"deletions", 0}}));
}

TEST_CASE("diff_stats of a commit the mirror cannot find says what to do") {
  git_fixture g;
  repo_gateway gateway(g.cache());
  repo_ref repo{"proj", g.origin()};
  REQUIRE_THROWS_WITH(gateway.diff_stats(repo, "main", std::string(40, 'b')),
                      Catch::Contains("is not in repository 'proj'"));
}

TEST_CASE("an unreachable repository is an error that names it - without credentials") {
  git_fixture g;
  repo_gateway gateway(g.cache());
  REQUIRE_THROWS_WITH(
      gateway.branch_tip_is({"proj", (g.dir() / "missing.git").string()}, "main",
                            std::string(40, 'a')),
      Catch::Contains("cannot read repository 'proj'"));
  REQUIRE_THROWS_WITH(
      gateway.branch_tip_is({"proj", "https://someone:s3cret@127.0.0.1:1/x.git"}, "main",
                            std::string(40, 'a')),
      !Catch::Contains("s3cret") && Catch::Contains("https://***@127.0.0.1:1/x.git"));
}

TEST_CASE("names that are not path-safe never become directories") {
  git_fixture g;
  repo_gateway gateway(g.cache());
  for (std::string name : {"../escape", "a/b", ".hidden", ""}) {
    INFO(name);
    CHECK_THROWS_WITH(gateway.branch_tip_is({name, g.origin()}, "main", std::string(40, 'a')),
                      Catch::Contains("not safe as a directory name"));
  }
  CHECK_FALSE(std::filesystem::exists(g.dir() / "escape"));
  // And branch names are checked before any refspec is made of them.
  CHECK_THROWS_WITH(gateway.branch_tip_is({"proj", g.origin()}, "a..b", std::string(40, 'a')),
                    Catch::Contains("not a valid branch name"));
}

TEST_CASE("push_branch refuses what is not a fast-forward and never forces") {
  git_fixture g;
  auto ahead = g.commit("side", "main", {{"a.txt", "a\n"}}, "ahead of main");
  repo_gateway gateway(g.cache());
  repo_ref repo{"proj", g.origin()};
  gateway.fetch(repo, {"main", "side"});
  auto pushed = gateway.push_branch(repo, "main", ahead);
  CHECK(pushed.pushed);
  CHECK(g.tip("main") == ahead);

  // main moves on elsewhere; a push of something that does not contain it is
  // refused and main keeps what it had.
  auto elsewhere = g.commit("main", "main", {{"b.txt", "b\n"}}, "pushed by someone else");
  auto stale = g.commit("other", "side", {{"c.txt", "c\n"}}, "built on the old main");
  gateway.fetch(repo, {"other"});
  auto refused = gateway.push_branch(repo, "main", stale);
  CHECK_FALSE(refused.pushed);
  CHECK_FALSE(refused.message.empty());
  CHECK(g.tip("main") == elsewhere);
  // The same when the mirror knows the new main: still not an ancestor.
  gateway.fetch(repo, {"main"});
  CHECK_FALSE(gateway.push_branch(repo, "main", stale).pushed);
  CHECK(g.tip("main") == elsewhere);
}

// Issue 13 (merge latency): a local remote's objects are read through the
// mirror's alternate, so a fetch copies nothing; the tips it answers, and
// the tracking refs it writes, are the remote's own, also as they move.
TEST_CASE("fetch from a local remote copies no objects and follows the branches") {
  git_fixture g;
  auto first = g.commit("agentq/1/1", "main", {{"a.txt", "one\n"}}, "one");
  repo_gateway gateway(g.cache());
  repo_ref repo{"proj", g.origin()};
  auto mirror = g.cache() / "proj";
  auto count_objects = [&] {
    int files = 0;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(mirror / "objects"))
      files += entry.is_regular_file() && entry.path().filename() != "alternates";
    return files;
  };
  for (int round = 0; round < 3; ++round) {
    auto moved = g.commit("agentq/1/1", "agentq/1/1", {{"a.txt", std::to_string(round) + "\n"}},
                          "round " + std::to_string(round));
    auto tips = gateway.fetch(repo, {"main", "agentq/1/1", "agentq/9/9"});
    CHECK(tips.at("main") == g.tip("main"));
    CHECK(tips.at("agentq/1/1") == moved);
    CHECK_FALSE(tips.at("agentq/9/9"));
    CHECK(gateway.has_commit(repo, moved));
    CHECK(gateway.contains(repo, moved, first));
    CHECK(count_objects() == 0);  // no pack, no loose object
  }
  auto in_mirror = [&](const std::string& args) {
    return agentq::testing::sh("git --git-dir=" + agentq::testing::quote(mirror.string()) + " " +
                               args);
  };
  CHECK(in_mirror("rev-parse refs/remotes/origin/agentq/1/1") == g.tip("agentq/1/1"));
  // A branch that goes on the remote goes from the answer and the mirror.
  g.origin_git("update-ref -d refs/heads/agentq/1/1");
  CHECK_FALSE(gateway.fetch(repo, {"agentq/1/1"}).at("agentq/1/1"));
  CHECK(in_mirror("for-each-ref refs/remotes/origin/agentq/").empty());
}
