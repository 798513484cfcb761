#pragma once
// The server's view of the repositories it guards (libgit2, no shelling out).
// It keeps one bare mirror per repository under a cache directory, so checks
// and merges work the same for local paths, file://, https and ssh remotes.
//
// Used by the HTTP layer (submit: is `commit` the tip of `branch`?), by the
// reviewer and the disagreement log (diff_stats) and by the merger (land an
// approved commit on the base branch).
//
// The mirror: <cache_dir>/<repo name>, a bare repository. Every call fetches
// exactly the branches it needs from the repository's URL with explicit
// refspecs (refs/heads/B -> refs/remotes/origin/B). Those tracking refs are a
// cache of the remote, re-read before every decision; nothing the gateway
// decides rests on them alone, and the one ref it ever writes on the remote
// (push_branch) is pushed without force.
//
// Threads: any number of gateways in one process may share a cache
// directory; calls on one mirror take turns (a lock per mirror path). Two
// processes should not share a cache directory.
//
// Remotes: local paths and file:// URLs. For ssh, the ssh agent's keys; for
// https, AGENTQ_GIT_USERNAME and AGENTQ_GIT_PASSWORD (a token) from the
// environment. Credentials are never logged: URLs in logs and errors have
// their user:password part replaced by ***.
//
// Errors (the repository cannot be reached, a name is not path-safe, an
// object is missing) are std::runtime_error saying what to do.

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

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
  explicit repo_gateway(std::filesystem::path cache_dir);

  // Fetches `branch` from the repository and answers whether its tip is
  // exactly `commit` (40 hex). False when the branch does not exist. Throws
  // std::runtime_error when the repository cannot be reached.
  bool branch_tip_is(const repo_ref& repo, const std::string& branch, const std::string& commit);

  // What `commit` changes against its merge base with `base_branch`:
  //   {files_changed, insertions, deletions,
  //    files: [{path, insertions, deletions}]}   (files sorted by path)
  // Fetches the base branch, and `branch` too when given (the commit must
  // be on one of them or already in the mirror).
  nlohmann::json diff_stats(const repo_ref& repo, const std::string& base_branch,
                            const std::string& commit,
                            const std::optional<std::string>& branch = std::nullopt);

  // ---- the pieces the merger is made of

  // Fetches exactly these branches into the mirror; answers each one's tip
  // on the remote (nullopt: the remote has no such branch).
  std::map<std::string, std::optional<std::string>> fetch(
      const repo_ref& repo, const std::vector<std::string>& branches);

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
  // Over ssh/https the remote checks the old tip atomically. For local and
  // file:// remotes libgit2 checks the fast-forward against the tip it read
  // when connecting and then writes the ref, so a push from outside agentq
  // landing in that instant could be overwritten; agentq's own merges never
  // race there (they hold the repository's merge lock, services/merger.hpp).
  push_result push_branch(const repo_ref& repo, const std::string& branch,
                          const std::string& commit);

  const std::filesystem::path& cache_dir() const { return m_cache_dir; }

  // <cache_dir>/<name>; throws when the name is not path-safe.
  std::filesystem::path mirror_path(const repo_ref& repo) const;

 private:
  std::filesystem::path m_cache_dir;
};

}  // namespace agentq::git
