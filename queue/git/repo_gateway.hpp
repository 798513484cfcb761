#pragma once
// The server's view of the repositories it guards. It keeps one bare mirror
// per repository under a cache directory for the work that needs objects
// (merges, diff stats); the submit check reads one ref and fetches nothing
// from a local remote.
//
// Used by the HTTP layer (submit: is `commit` the tip of `branch`?), by the
// disagreement log (diff_stats) and by the merger (land an approved commit on
// the base branch, then delete the task's branches).
//
// Network and deadlines. libgit2 1.5 has no network timeout, so:
//   - local remotes (a path or file://) are read in-process with libgit2
//     (gitcore/): no network, nothing to wait for;
//   - network remotes (http, https, ssh, git://, user@host:path) are reached
//     by the git CLI in a child process with a deadline (git_process.hpp):
//     at the deadline the child's whole process group is killed, its lock
//     files are removed from the mirror, and the call throws
//     agentq::git::timeout naming the repository.
// Every call takes an absolute deadline (the git_executor hands one to its
// jobs); without one it uses now + the gateway's timeout (--git-timeout-s).
// A wait for the mirror's lock counts against the deadline too.
//
// The mirror: <cache_dir>/<repo name>, a bare repository. Fetches name exactly
// the branches they need (refs/heads/B -> refs/remotes/origin/B; git sends
// only those ref prefixes to the remote). Tracking refs are a cache of the
// remote, re-read before every decision; the only refs the gateway writes on
// a remote are the base branch (pushed without force, by the merger) and the
// deletion of a finished task's agentq/<id>/<token> branches.
//
// Threads: any number of gateways in one process may share a cache
// directory; calls on one mirror take turns (a lock per mirror path). Two
// processes should not share a cache directory.
//
// Credentials: gitcore/credentials.hpp (ssh keys or agent, AGENTQ_GIT_USERNAME
// / AGENTQ_GIT_PASSWORD for https), never logged: URLs in logs and errors have
// their user:password part replaced by ***.
//
// Errors: agentq::git::timeout (a deadline passed: retry later) and
// agentq::git::failure (the repository cannot be read, a name is not
// path-safe, an object is missing), both std::runtime_error saying what to do.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "gitcore/errors.hpp"  // failure, timeout

namespace agentq::git {

struct repo_ref {
  std::string name;  // the repos row's name: the mirror's directory
  std::string url;
};

struct author {
  std::string name = "agentq";
  std::string email = "agentq@localhost";
};

// A merge made in the mirror (not yet pushed anywhere).
struct merge_made {
  std::optional<std::string> commit;   // the merge commit, when it merged cleanly
  std::vector<std::string> conflicts;  // the conflicting paths otherwise, sorted
};

struct push_result {
  bool pushed = false;
  std::string message;  // why the remote refused (e.g. the branch moved)
};

class repo_gateway {
 public:
  using clock = std::chrono::steady_clock;
  using deadline_t = std::optional<clock::time_point>;  // nullopt: now + timeout()

  explicit repo_gateway(std::filesystem::path cache_dir,
                        std::chrono::milliseconds timeout = std::chrono::seconds(30));

  std::chrono::milliseconds timeout() const { return m_timeout; }
  // now + timeout(): the deadline of a call made now.
  clock::time_point deadline_from_now() const { return clock::now() + m_timeout; }

  // The key to post this repository's jobs under in a git_executor: one per
  // network host (its per-remote cap protects the rest from a bad host), one
  // per path for local repositories.
  static std::string remote_key(const repo_ref& repo);

  // Whether the tip of `branch` is exactly `commit` (40 hex). False when the
  // branch does not exist. Reads only that one ref: a local remote's ref is
  // looked up in place (no fetch); a network remote's branch is fetched into
  // the mirror (one ref prefix asked for; its objects are what the review
  // and the merge need next). Other branches, and their concurrent deletion,
  // never matter. Throws timeout / failure.
  bool branch_tip_is(const repo_ref& repo, const std::string& branch, const std::string& commit,
                     deadline_t deadline = std::nullopt);

  // What `commit` changes against its merge base with `base_branch`, in
  // gitcore/diff_stats.hpp's shape ({base, commit, files_changed, insertions,
  // deletions, files: [{path, status, insertions, deletions}],
  // files_truncated}). A local remote is read in place; from a network
  // remote the base branch (and `branch`, when given) is fetched into the
  // mirror first (the commit must be on one of them or in the mirror).
  nlohmann::json diff_stats(const repo_ref& repo, const std::string& base_branch,
                            const std::string& commit,
                            const std::optional<std::string>& branch = std::nullopt,
                            deadline_t deadline = std::nullopt);

  // ---- the pieces the merger is made of

  // Fetches exactly these branches into the mirror; answers each one's tip
  // on the remote (nullopt: the remote has no such branch). A local remote's
  // tips are read in place and only the tracking refs written: the mirror
  // reads its objects as an alternate, so nothing is copied.
  std::map<std::string, std::optional<std::string>> fetch(
      const repo_ref& repo, const std::vector<std::string>& branches,
      deadline_t deadline = std::nullopt);

  // Whether the mirror holds `commit` (a commit object).
  bool has_commit(const repo_ref& repo, const std::string& commit);

  // Whether `tip` is `commit` or descends from it. Both must be in the mirror.
  bool contains(const repo_ref& repo, const std::string& tip, const std::string& commit);

  // The commit on `tip`'s first-parent chain that brought `commit` in: the
  // oldest first-parent ancestor of `tip` that still contains it (the commit
  // itself after a fast-forward, the merge commit after a merge). `tip` must
  // contain `commit`.
  std::string introducing_commit(const repo_ref& repo, const std::string& tip,
                                 const std::string& commit);

  // Merges `theirs` into `ours` in the mirror: a commit with parents (ours,
  // theirs) and the given message, or the conflicting paths. Moves no ref.
  merge_made merge(const repo_ref& repo, const std::string& ours, const std::string& theirs,
                   const std::string& message, const author& by);

  // Pushes `commit` to refs/heads/<branch> WITHOUT force: refused when the
  // remote branch is not an ancestor of `commit` (it moved). Creates the
  // branch when the remote has none.
  //
  // Over the network the remote checks the old tip atomically. For local and
  // file:// remotes libgit2 checks the fast-forward against the tip it read
  // when connecting and then writes the ref, so a push from outside agentq
  // landing in that instant could be overwritten; agentq's own merges never
  // race there (they hold the repository's merge lock, services/merger.hpp).
  push_result push_branch(const repo_ref& repo, const std::string& branch,
                          const std::string& commit, deadline_t deadline = std::nullopt);

  // Deletes task `task_id`'s branches on the remote: exactly the refs
  // refs/heads/agentq/<task_id>/<token> (token: decimal digits), never
  // `base_branch`, never anything else; and their tracking refs in the
  // mirror. Answers how many it deleted. A branch someone else deleted
  // meanwhile is no error.
  int delete_task_branches(const repo_ref& repo, std::int64_t task_id,
                           const std::string& base_branch, deadline_t deadline = std::nullopt);

  const std::filesystem::path& cache_dir() const { return m_cache_dir; }

  // <cache_dir>/<name>; throws when the name is not path-safe.
  std::filesystem::path mirror_path(const repo_ref& repo) const;

 private:
  clock::time_point deadline_of(deadline_t deadline) const {
    return deadline ? *deadline : deadline_from_now();
  }

  std::filesystem::path m_cache_dir;
  std::chrono::milliseconds m_timeout;
};

}  // namespace agentq::git
