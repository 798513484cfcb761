// Reused work trees (runner/git_workspace.hpp, issue 13): a claim gets an
// earlier claim's work tree reset to its own start, never anything the
// earlier claim left there, finished or killed. Checked with the git command
// line against real repositories.
#include <filesystem>

#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "runner/git_workspace.hpp"
#include "runner_support.hpp"

using namespace agentq::runner;
using namespace agentq::testing;
namespace fs = std::filesystem;

namespace {

struct reuse_fixture {
  scratch_dir tmp;
  fs::path origin = tmp / "origin.git";
  std::string seed = make_origin(origin);
  fs::path workdir = tmp / "work";
  git_workspace ws{workdir};
  repo_info repo{"demo", origin.string(), "main"};
  fs::path mirror = workdir / "mirrors" / "demo.git";

  std::string git(const fs::path& dir) {
    return "GIT_AUTHOR_NAME=a GIT_AUTHOR_EMAIL=a@x GIT_COMMITTER_NAME=a GIT_COMMITTER_EMAIL=a@x "
           "git -C " + quote(dir.string()) + " ";
  }
};

// Everything an agent can leave behind in a work tree: its own commit on a
// branch it switched to, a staged new file, a modified and a deleted tracked
// file, an untracked folder, an ignored file, runner files, a merge left
// half done.
void leave_a_mess(reuse_fixture& f, const fs::path& dir) {
  write_text(dir / "committed.txt", "agent commit\n");
  must(f.git(dir) + "checkout -q -b side && " + f.git(dir) + "add committed.txt && " + f.git(dir) +
       "commit -q -m 'agent commit'");
  write_text(dir / "staged.txt", "staged\n");
  must(f.git(dir) + "add staged.txt");
  write_text(dir / "README.md", "changed by the last claim\n");
  fs::remove(dir / "test.sh");
  write_text(dir / "scratch" / "deep" / "untracked.txt", "untracked\n");
  write_text(dir / ".gitignore", "build/\n");
  write_text(dir / "build" / "ignored.o", "ignored\n");
  write_text(dir / ".agentq" / "summary.md", "the last claim's summary\n");
  // A merge left half done: MERGE_HEAD in the tree's git directory.
  must("echo " + f.seed + " > \"$(" + f.git(dir) + "rev-parse --git-dir)/MERGE_HEAD\"");
}

// The work tree is exactly `commit` on `branch`: what git itself sees.
void check_exactly(const fs::path& dir, const std::string& branch, const std::string& commit) {
  CHECK(must("git -C " + quote(dir.string()) + " rev-parse --abbrev-ref HEAD") == branch);
  CHECK(must("git -C " + quote(dir.string()) + " rev-parse HEAD") == commit);
  CHECK(must("git -C " + quote(dir.string()) + " status --porcelain --ignored --untracked-files=all")
            .empty());
  CHECK(must("git -C " + quote(dir.string()) + " diff --cached --name-only " + commit).empty());
  CHECK(shell("git -C " + quote(dir.string()) + " rev-parse -q --verify MERGE_HEAD").status != 0);
  CHECK_FALSE(fs::exists(dir / ".agentq"));
  CHECK_FALSE(fs::exists(dir / "scratch"));
  CHECK_FALSE(fs::exists(dir / "build"));
  CHECK_FALSE(fs::exists(dir / "staged.txt"));
  CHECK_FALSE(fs::exists(dir / "committed.txt"));
}

// The base branch moves on, as the merger moves it.
std::string advance_main(reuse_fixture& f, const std::string& file) {
  auto clone = f.tmp / ("advance-" + file);
  must("git clone -q " + quote(f.origin.string()) + " " + quote(clone.string()));
  write_text(clone / file, "on main\n");
  must(f.git(clone) + "add " + file + " && " + f.git(clone) + "commit -q -m main && " +
       f.git(clone) + "push -q origin main");
  return rev_parse(f.origin, "refs/heads/main");
}

}  // namespace

TEST_CASE("a worker's next claim reuses the work tree - reset to the current base", "[workspace]") {
  reuse_fixture f;
  auto first = f.ws.prepare_work(f.repo, 1, 10);
  CHECK_FALSE(first.reused);  // the first claim makes the tree
  leave_a_mess(f, first.dir);
  auto out = f.ws.commit_all(first, "w", "w@agentq.invalid", "task 1\n");
  REQUIRE(out.changed);
  f.ws.push_branch(first);
  write_text(first.dir / "after-commit.txt", "written after the commit\n");
  f.ws.remove(first);
  CHECK(rev_parse(f.mirror, "refs/heads/agentq/1/10").empty());  // its local branch is gone

  const auto main_now = advance_main(f, "moved.txt");
  auto second = f.ws.prepare_work(f.repo, 2, 20);
  CHECK(second.reused);
  CHECK(second.dir == first.dir);
  CHECK(second.base_commit == main_now);
  check_exactly(second.dir, "agentq/2/20", main_now);
  CHECK(read_text(second.dir / "README.md") == "# demo\n");
  CHECK(read_text(second.dir / "test.sh") == "#!/bin/sh\nexit 0\n");
  CHECK(read_text(second.dir / "moved.txt") == "on main\n");
  CHECK_FALSE(fs::exists(second.dir / "after-commit.txt"));
  // What the second claim commits holds its own change only.
  write_text(second.dir / "two.txt", "two\n");
  auto two = f.ws.commit_all(second, "w", "w@agentq.invalid", "task 2\n");
  REQUIRE(two.changed);
  f.ws.push_branch(second);
  CHECK(must("git --git-dir=" + quote(f.origin.string()) + " diff --name-only " + main_now + " " +
             two.commit) == "two.txt");
  f.ws.remove(second);
}

TEST_CASE("two claims at once get two work trees - each reused later", "[workspace]") {
  reuse_fixture f;
  auto a = f.ws.prepare_work(f.repo, 1, 1);
  auto b = f.ws.prepare_work(f.repo, 2, 2);
  CHECK(a.dir != b.dir);
  write_text(a.dir / "a.txt", "a\n");
  write_text(b.dir / "b.txt", "b\n");
  f.ws.remove(a);
  // Another runner process on the same work directory takes the free one.
  git_workspace other(f.workdir);
  auto c = other.prepare_work(f.repo, 3, 3);
  CHECK(c.reused);
  CHECK(c.dir == a.dir);
  check_exactly(c.dir, "agentq/3/3", f.seed);
  CHECK(fs::exists(b.dir / "b.txt"));  // the one in use is untouched
  other.remove(c);
  f.ws.remove(b);
}

TEST_CASE("a killed runner's work tree is reset for the next claim", "[workspace]") {
  reuse_fixture f;
  // A runner process that dies holding the tree, its mess left behind.
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    try {
      git_workspace dying(f.workdir);
      auto co = dying.prepare_work(f.repo, 5, 50);
      leave_a_mess(f, co.dir);
    } catch (...) {
      ::_exit(3);
    }
    ::_exit(0);  // no remove(): the lock goes with the process, the branch stays
  }
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
  REQUIRE(rev_parse(f.mirror, "refs/heads/agentq/5/50") == f.seed);

  auto next = f.ws.prepare_work(f.repo, 6, 60);
  CHECK(next.reused);
  check_exactly(next.dir, "agentq/6/60", f.seed);
  CHECK(read_text(next.dir / "README.md") == "# demo\n");
  // The dead claim's local branch went with its tree.
  CHECK(rev_parse(f.mirror, "refs/heads/agentq/5/50").empty());
  f.ws.remove(next);
}

TEST_CASE("a work tree that cannot be trusted is checked out afresh", "[workspace]") {
  reuse_fixture f;
  auto first = f.ws.prepare_work(f.repo, 1, 1);
  const auto dir = first.dir;
  std::string how;
  SECTION("a change hidden with skip-worktree") {
    write_text(dir / "README.md", "hidden change\n");
    must(f.git(dir) + "update-index --skip-worktree README.md");
    how = "skip-worktree";
  }
  SECTION("a change hidden with assume-unchanged") {
    write_text(dir / "README.md", "hidden change\n");
    must(f.git(dir) + "update-index --assume-unchanged README.md");
    how = "assume-unchanged";
  }
  SECTION("a .git file pointing elsewhere") {
    auto elsewhere = f.tmp / "elsewhere";
    must("git init -q " + quote(elsewhere.string()));
    write_text(dir / ".git", "gitdir: " + (elsewhere / ".git").string() + "\n");
    write_text(dir / "README.md", "changed\n");
    how = "foreign .git";
  }
  SECTION("no .git at all") {
    fs::remove_all(dir / ".git");
    write_text(dir / "README.md", "changed\n");
    how = "no .git";
  }
  INFO(how);
  f.ws.remove(first);
  auto next = f.ws.prepare_work(f.repo, 2, 2);
  CHECK_FALSE(next.reused);
  CHECK(next.dir == dir);
  check_exactly(next.dir, "agentq/2/2", f.seed);
  CHECK(read_text(next.dir / "README.md") == "# demo\n");
  f.ws.remove(next);
}

TEST_CASE("a reviewer's reused work tree is exactly the next submitted commit", "[workspace]") {
  reuse_fixture f;
  std::string commits[2];
  for (int i = 0; i < 2; ++i) {
    auto co = f.ws.prepare_work(f.repo, 10 + i, 1);
    write_text(co.dir / ("feature-" + std::to_string(i) + ".txt"), "v\n");
    commits[i] = f.ws.commit_all(co, "w", "w@agentq.invalid", "f\n").commit;
    f.ws.push_branch(co);
    f.ws.remove(co);
  }
  git_workspace reviewer(f.tmp / "review");
  auto r1 = reviewer.prepare_review(f.repo, 10, 2, "agentq/10/1", commits[0]);
  CHECK_FALSE(r1.reused);
  leave_a_mess(f, r1.dir);
  reviewer.remove(r1);
  auto r2 = reviewer.prepare_review(f.repo, 11, 2, "agentq/11/1", commits[1]);
  CHECK(r2.reused);
  CHECK(r2.dir == r1.dir);
  check_exactly(r2.dir, "agentq-review/11/2", commits[1]);
  CHECK(fs::exists(r2.dir / "feature-1.txt"));
  CHECK_FALSE(fs::exists(r2.dir / "feature-0.txt"));
  CHECK(reviewer.diff_stats(r2)["files_changed"] == 1);
  reviewer.remove(r2);
}
