#pragma once
// The server's view of the repositories it guards (libgit2, no shelling out).
// It keeps one bare mirror per repository under a cache directory, so checks
// and merges work the same for local paths, file://, https and ssh remotes.
//
// Used by the HTTP layer (submit: is `commit` the tip of `branch`?) and by the
// merger (land an approved commit on the base branch).

#include <filesystem>
#include <mutex>
#include <string>

namespace agentq::git {

struct repo_ref {
  std::string name;  // the repos row's name: the mirror's directory
  std::string url;
};

class repo_gateway {
 public:
  explicit repo_gateway(std::filesystem::path cache_dir);

  // Fetches `branch` from the repository and answers whether its tip is
  // exactly `commit` (40 hex). False when the branch does not exist. Throws
  // std::runtime_error when the repository cannot be reached.
  bool branch_tip_is(const repo_ref& repo, const std::string& branch, const std::string& commit);

  const std::filesystem::path& cache_dir() const { return m_cache_dir; }

 private:
  std::filesystem::path m_cache_dir;
  std::mutex m_mutex;  // one fetch into a mirror at a time within a process
};

}  // namespace agentq::git
