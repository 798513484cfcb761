// git_workspace against real bare repositories on disk; results are checked
// with the git command line.
#include <algorithm>
#include <filesystem>
#include <vector>

#include <catch2/catch.hpp>

#include "runner/git_workspace.hpp"
#include "runner_support.hpp"

using namespace agentq::runner;
using namespace agentq::testing;
namespace fs = std::filesystem;

namespace {

struct git_fixture {
  scratch_dir tmp;
  fs::path origin = tmp / "origin.git";
  std::string seed = make_origin(origin);
  git_workspace ws{tmp / "work"};
  repo_info repo{"demo", origin.string(), "main"};
};

}  // namespace

TEST_CASE("a worker checkout is a fresh branch from the base branch", "[workspace]") {
  git_fixture f;
  auto co = f.ws.prepare_work(f.repo, 12, 345);
  CHECK(co.local_branch == "agentq/12/345");
  CHECK(co.base_commit == f.seed);
  CHECK(fs::exists(co.dir / "README.md"));
  CHECK(read_text(co.dir / "test.sh") == "#!/bin/sh\nexit 0\n");
  CHECK(co.dir.string().find((f.tmp / "work" / "checkouts" / "demo").string()) == 0);
  CHECK(fs::exists(f.tmp / "work" / "mirrors" / "demo.git"));
  // The git command line sees a work tree on the claim's branch.
  CHECK(must("git -C " + quote(co.dir.string()) + " rev-parse --abbrev-ref HEAD") == "agentq/12/345");
  CHECK(must("git -C " + quote(co.dir.string()) + " status --porcelain").empty());
  f.ws.remove(co);
  // The work tree stays for the next claim; the claim's local branch goes.
  CHECK(rev_parse(f.tmp / "work" / "mirrors" / "demo.git", "refs/heads/agentq/12/345").empty());
}

TEST_CASE("commit and push land exactly the claim's branch - base untouched", "[workspace]") {
  git_fixture f;
  std::string refs_before = list_refs(f.origin);
  auto co = f.ws.prepare_work(f.repo, 7, 99);
  write_text(co.dir / "src" / "new.txt", "created\n");      // new file in a new folder
  write_text(co.dir / "README.md", "# demo\nchanged\n");    // modified
  fs::remove(co.dir / "test.sh");                           // deleted
  write_text(co.dir / ".agentq" / "summary.md", "did it");  // runner file: never committed

  auto out = f.ws.commit_all(co, "worker-1", "worker-1@agentq.invalid", "task 7\n");
  REQUIRE(out.changed);
  REQUIRE(out.commit.size() == 40);
  f.ws.push_branch(co);

  CHECK(rev_parse(f.origin, "refs/heads/agentq/7/99") == out.commit);
  CHECK(rev_parse(f.origin, "refs/heads/main") == f.seed);
  CHECK(show_file(f.origin, out.commit, "src/new.txt") == "created");
  CHECK(show_file(f.origin, out.commit, "README.md") == "# demo\nchanged");
  CHECK(show_file(f.origin, out.commit, "test.sh").empty());
  CHECK(show_file(f.origin, out.commit, ".agentq/summary.md").empty());
  CHECK(must("git --git-dir=" + quote(f.origin.string()) + " log -1 --format=%an " + out.commit) ==
        "worker-1");
  CHECK(must("git --git-dir=" + quote(f.origin.string()) + " rev-parse " + out.commit + "^") ==
        f.seed);
  // Exactly one new ref on the remote: the claim's branch.
  std::string refs_after = list_refs(f.origin);
  CHECK(refs_after.find("refs/heads/agentq/7/99") != std::string::npos);
  std::vector<std::string> expected = {f.seed + " refs/heads/main",
                                       out.commit + " refs/heads/agentq/7/99"};
  std::sort(expected.begin(), expected.end());
  CHECK(refs_before == f.seed + " refs/heads/main");
  CHECK(refs_after == expected[0] + "\n" + expected[1]);
  f.ws.remove(co);
}

TEST_CASE("only the claim's branch is pushed - even when the agent made others", "[workspace]") {
  git_fixture f;
  auto co = f.ws.prepare_work(f.repo, 3, 4);
  std::string git = "GIT_AUTHOR_NAME=a GIT_AUTHOR_EMAIL=a@x GIT_COMMITTER_NAME=a "
                    "GIT_COMMITTER_EMAIL=a@x git -C " + quote(co.dir.string()) + " ";
  // The agent commits by itself (Aider does), makes a side branch, and even
  // moves a local copy of main.
  write_text(co.dir / "a.txt", "one\n");
  must(git + "add a.txt && " + git + "commit -q -m 'agent commit'");
  must(git + "branch side");
  must(git + "branch -f main HEAD");
  write_text(co.dir / "b.txt", "two\n");  // and leaves one change uncommitted

  auto out = f.ws.commit_all(co, "w", "w@agentq.invalid", "task 3\n");
  REQUIRE(out.changed);
  f.ws.push_branch(co);
  CHECK(rev_parse(f.origin, "refs/heads/agentq/3/4") == out.commit);
  CHECK(show_file(f.origin, out.commit, "a.txt") == "one");
  CHECK(show_file(f.origin, out.commit, "b.txt") == "two");
  CHECK(rev_parse(f.origin, "refs/heads/main") == f.seed);
  CHECK(rev_parse(f.origin, "refs/heads/side").empty());
  f.ws.remove(co);
}

TEST_CASE("no change means nothing to commit", "[workspace]") {
  git_fixture f;
  auto co = f.ws.prepare_work(f.repo, 5, 6);
  write_text(co.dir / ".agentq" / "summary.md", "nothing to do");  // not a change
  auto out = f.ws.commit_all(co, "w", "w@agentq.invalid", "task 5\n");
  CHECK_FALSE(out.changed);

  // A change that was undone is no change either.
  write_text(co.dir / "README.md", "other\n");
  write_text(co.dir / "README.md", "# demo\n");
  CHECK_FALSE(f.ws.commit_all(co, "w", "w@agentq.invalid", "task 5\n").changed);
  f.ws.remove(co);
}

TEST_CASE("a push never overwrites what is already on the branch", "[workspace]") {
  git_fixture f;
  // Someone else already pushed different work to the same branch name.
  auto other = f.ws.prepare_work(f.repo, 8, 9);
  write_text(other.dir / "x.txt", "first\n");
  auto first = f.ws.commit_all(other, "w", "w@agentq.invalid", "first\n");
  f.ws.push_branch(other);
  f.ws.remove(other);

  git_workspace second_ws(f.tmp / "work2");
  auto co = second_ws.prepare_work(f.repo, 8, 9);
  write_text(co.dir / "y.txt", "second\n");
  auto second = second_ws.commit_all(co, "w", "w@agentq.invalid", "second\n");
  CHECK_THROWS_AS(second_ws.push_branch(co), git_failure);
  CHECK(rev_parse(f.origin, "refs/heads/agentq/8/9") == first.commit);
  CHECK(second.commit != first.commit);
  second_ws.remove(co);
}

TEST_CASE("a reviewer checks out exactly the submitted commit", "[workspace]") {
  git_fixture f;
  auto co = f.ws.prepare_work(f.repo, 21, 30);
  write_text(co.dir / "feature.txt", "v1\n");
  auto v1 = f.ws.commit_all(co, "w", "w@agentq.invalid", "v1\n");
  f.ws.push_branch(co);
  f.ws.remove(co);

  git_workspace reviewer_ws(f.tmp / "review");
  auto rc = reviewer_ws.prepare_review(f.repo, 21, 31, "agentq/21/30", v1.commit);
  CHECK(read_text(rc.dir / "feature.txt") == "v1\n");
  CHECK(must("git -C " + quote(rc.dir.string()) + " rev-parse HEAD") == v1.commit);
  auto stats = reviewer_ws.diff_stats(rc);
  CHECK(stats["files_changed"] == 1);
  CHECK(stats["insertions"] == 1);
  CHECK(stats["deletions"] == 0);
  CHECK(stats["base"] == f.seed);
  REQUIRE(stats["files"].size() == 1);
  CHECK(stats["files"][0]["path"] == "feature.txt");
  CHECK(stats["files"][0]["status"] == "A");
  reviewer_ws.remove(rc);
  CHECK(rev_parse(f.tmp / "review" / "mirrors" / "demo.git", "refs/heads/agentq-review/21/31")
            .empty());
  // The reviewer never pushed anything.
  CHECK(rev_parse(f.origin, "refs/heads/agentq-review/21/31").empty());
}

TEST_CASE("a reviewer refuses a commit the branch does not hold", "[workspace]") {
  git_fixture f;
  auto co = f.ws.prepare_work(f.repo, 1, 2);
  write_text(co.dir / "f.txt", "x\n");
  f.ws.commit_all(co, "w", "w@agentq.invalid", "x\n");
  f.ws.push_branch(co);
  f.ws.remove(co);
  git_workspace reviewer_ws(f.tmp / "review");
  std::string bogus(40, 'a');
  CHECK_THROWS_AS(reviewer_ws.prepare_review(f.repo, 1, 3, "agentq/1/2", bogus), git_failure);
  CHECK_THROWS_AS(reviewer_ws.prepare_review(f.repo, 1, 3, "agentq/1/999", f.seed), git_failure);
}

TEST_CASE("an unreachable repository is reported as such", "[workspace]") {
  scratch_dir tmp;
  git_workspace ws(tmp / "work");
  repo_info missing{"gone", (tmp / "does-not-exist.git").string(), "main"};
  CHECK_THROWS_AS(ws.prepare_work(missing, 1, 1), git_unreachable);
  git_fixture f;
  repo_info no_branch{"demo", f.origin.string(), "develop"};
  CHECK_THROWS_AS(f.ws.prepare_work(no_branch, 1, 1), git_failure);
}

TEST_CASE("file:// remotes work like local paths", "[workspace]") {
  git_fixture f;
  repo_info by_url{"demo-url", "file://" + f.origin.string(), "main"};
  auto co = f.ws.prepare_work(by_url, 40, 41);
  write_text(co.dir / "u.txt", "url\n");
  auto out = f.ws.commit_all(co, "w", "w@agentq.invalid", "u\n");
  f.ws.push_branch(co);
  CHECK(rev_parse(f.origin, "refs/heads/agentq/40/41") == out.commit);
  f.ws.remove(co);
}

TEST_CASE("several checkouts of one repository live side by side", "[workspace]") {
  git_fixture f;
  auto a = f.ws.prepare_work(f.repo, 1, 10);
  auto b = f.ws.prepare_work(f.repo, 2, 11);
  write_text(a.dir / "a.txt", "a\n");
  write_text(b.dir / "b.txt", "b\n");
  auto ca = f.ws.commit_all(a, "w", "w@agentq.invalid", "a\n");
  auto cb = f.ws.commit_all(b, "w", "w@agentq.invalid", "b\n");
  f.ws.push_branch(a);
  f.ws.push_branch(b);
  CHECK(show_file(f.origin, ca.commit, "b.txt").empty());
  CHECK(show_file(f.origin, cb.commit, "a.txt").empty());
  CHECK(rev_parse(f.origin, "refs/heads/agentq/1/10") == ca.commit);
  CHECK(rev_parse(f.origin, "refs/heads/agentq/2/11") == cb.commit);
  f.ws.remove(a);
  f.ws.remove(b);
}
