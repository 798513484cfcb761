#pragma once
// The git CLI in a child process the server can kill: network git with a
// deadline. libgit2 1.5 has no network timeout (a remote that accepts the TCP
// connection and never answers holds a libgit2 call forever), so everything
// that talks to a network remote runs `git` here instead.
//
// The child gets a process group of its own; at the deadline the whole group
// (git and the transports it started: git-remote-https, ssh) is killed with
// SIGKILL, and the lock files a killed git leaves in `git_dir` are removed.
// It never prompts: credentials come from the environment through
// gitcore/credentials.hpp's rules, and a missing one fails at once.

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace agentq::git {

struct git_run {
  int exit_code = -1;   // git's exit status (-1: killed at the deadline)
  bool timed_out = false;
  std::string out;      // stdout
  std::string err;      // stderr (never printed whole: it may quote the URL)
};

// Runs `git [credential options] <args>` (with --git-dir=<git_dir> when
// given) until it exits or `deadline` passes. Answers what happened; throws
// failure only when the child cannot be started.
git_run run_git(const std::vector<std::string>& args,
                const std::optional<std::filesystem::path>& git_dir,
                std::chrono::steady_clock::time_point deadline);

// Removes the *.lock files under `git_dir` (refs, packed-refs, config, shallow
// ...) and the temporary packs of an interrupted fetch. Call only while no
// other git runs in that repository (the gateway holds its mirror lock).
void remove_stale_locks(const std::filesystem::path& git_dir);

}  // namespace agentq::git
