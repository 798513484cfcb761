#pragma once
// The runners' git, with libgit2 only (docs/api.md §4.5, §6, §7).
//
// Layout under the work directory (AGENTQ_WORKDIR):
//   mirrors/<repo>.git              one bare mirror per repository, fetched into
//   checkouts/<repo>/<kind>-<n>/    reusable work trees (kind w: worker, r: reviewer)
//   checkouts/<repo>/<kind>-<n>.lock  held (flock) by the claim using that tree
//   tasks/<id>-<token>.json         the AGENTQ_TASK_FILE of a claim
//
// A checkout is a git work tree of the mirror on a branch of its own, so its
// commits land in the mirror's object store and are pushed from there.
//
// Work trees are reused: a claim takes the first free numbered tree (its
// lock file, released by the kernel if the runner dies) and resets it to the
// commit it starts from, the way `git reset --hard && git clean -ffdx` would:
// libgit2 rewrites only the files that differ and removes everything
// untracked or ignored (.agentq/ too). Writing 10,000 files for every claim,
// and deleting them after, was most of a task's time (issue 13). The reset
// is then checked: HEAD must be the claim's branch at that commit and
// `status` (untracked and ignored files included) must be empty; a tree that
// fails the check, or cannot be opened as a work tree of this mirror, is
// deleted and checked out afresh. So nothing of an earlier claim, finished
// or killed, reaches the next one.
//
// The worker pushes exactly refs/heads/agentq/<task-id>/<token>, without
// force, and never any other ref; its base branch is only ever read.
// Operations on one mirror are serialised with a lock file (flock), so
// several slots and several runner processes may share a work directory.
//
// libgit2 through gitcore/ (the layer the server shares): the same handles,
// credential rules (gitcore/credentials.hpp: from the environment, see
// docs/agents.md, never logged) and diff-stat shape (gitcore/diff_stats.hpp).

#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

#include "gitcore/handles.hpp"

namespace agentq::runner {

struct repo_info {
  std::string name;         // the repos row's name: the mirror's directory
  std::string url;          // local path, file://, https://, ssh://, git@host:path
  std::string base_branch;  // e.g. main

  static repo_info from_json(const nlohmann::json& repo);  // the claim answer's `repo`
};

// A git operation failed (gitcore's error type, so libgit2 checks shared with
// the server throw it too).
using git_failure = git::failure;
// The repository could not be reached (fetch or push transport failed).
struct git_unreachable : git_failure {
  using git_failure::git_failure;
};

struct checkout {
  repo_info repo;
  std::filesystem::path mirror;  // the bare mirror
  std::filesystem::path dir;     // the work tree the command runs in
  std::string worktree_name;
  std::string local_branch;      // the work tree's branch (without refs/heads/)
  std::string base_commit;       // worker: the base branch's tip it starts from
  std::string start_commit;      // the commit the work tree was checked out at
  bool reused = false;           // an earlier claim's work tree, reset (not a fresh checkout)
};

struct commit_outcome {
  bool changed = false;  // false: the tree equals the base commit's tree
  std::string commit;    // changed: the commit to push and submit
};

class git_workspace {
 public:
  explicit git_workspace(std::filesystem::path workdir);
  ~git_workspace();  // frees the work trees still held
  git_workspace(const git_workspace&) = delete;
  git_workspace& operator=(const git_workspace&) = delete;

  const std::filesystem::path& workdir() const { return m_workdir; }

  // Worker: fetches the base branch and makes a work tree on a fresh branch
  // agentq/<task-id>/<token> at its tip.
  checkout prepare_work(const repo_info& repo, std::int64_t task_id, std::int64_t token);

  // Worker: stages everything that changed in the work tree (new, modified
  // and deleted files; .gitignore is honoured; .agentq/ never), commits it
  // on the work tree's branch, and tells whether the result differs from the
  // base. Commits the command made itself count as changes too.
  commit_outcome commit_all(const checkout& co, const std::string& author_name,
                            const std::string& author_email, const std::string& message);

  // Worker: pushes exactly refs/heads/<co.local_branch>, never forced.
  void push_branch(const checkout& co);

  // Reviewer: fetches the base branch and the submission's branch and makes
  // a work tree at exactly `commit`. Throws git_failure when the branch does
  // not hold that commit.
  checkout prepare_review(const repo_info& repo, std::int64_t task_id, std::int64_t token,
                          const std::string& branch, const std::string& commit);

  // Reviewer: what the submission changes against the base branch (from
  // their merge base), in gitcore/diff_stats.hpp's shape (the same one the
  // server answers for disagreements).
  nlohmann::json diff_stats(const checkout& co);

  // Ends the claim's use of its work tree: deletes its local branch and
  // frees the tree for the next claim (which resets it before use). Never
  // throws (cleanup must not hide what went before).
  void remove(const checkout& co) noexcept;

  std::filesystem::path task_file(std::int64_t task_id, std::int64_t token) const;

 private:
  // The checkout's work tree: a free numbered tree of `kind`, locked for
  // the claim (its lock is kept in m_held until remove()). Answers the claim
  // branch of the tree's last user, from its lock file.
  std::string take_tree(checkout& co, const std::string& kind);
  void release_tree(const checkout& co) noexcept;
  // Fetch done, mirror locked: the work tree on co.local_branch at `commit`;
  // `previous` (take_tree's answer) is deleted if a killed runner left it.
  void place_tree(git_repository* mirror, checkout& co, const git_oid& commit,
                  const std::string& previous);

  std::filesystem::path m_workdir;
  std::mutex m_held_mutex;
  std::map<std::string, int> m_held;  // work tree dir -> its lock file descriptor
};

}  // namespace agentq::runner
