#pragma once
// Real git repositories on disk for the merge tests, set up with the git CLI
// (the product code uses libgit2 only; the tests check it against git).
//
//   git_fixture g;            a temp dir with origin.git (bare, branch main
//                             with one commit: README) and a clone to work in
//   g.commit("agentq/1/5", "main", {{"a.txt", "x\n"}}, "add a")
//                             a commit on a new branch from main, pushed
//   g.tip("main")             what origin.git's main points at
//
// Everything lives under one temp dir, removed when the fixture ends.

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace agentq::testing {

class temp_dir {
 public:
  temp_dir();
  ~temp_dir();
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  const std::filesystem::path& path() const { return m_path; }

 private:
  std::filesystem::path m_path;
};

// Runs a shell command; answers its stdout without the trailing newline.
// Throws with the command and its output when it fails.
std::string sh(const std::string& command);
std::string quote(const std::string& text);

class git_fixture {
 public:
  git_fixture();

  // A commit of `files` (path -> content; nullopt deletes the file) on
  // `branch`, started from origin's `from`, pushed to origin (forced, like
  // a worker that rewrites its own branch). Answers its id.
  std::string commit(const std::string& branch, const std::string& from,
                     const std::map<std::string, std::optional<std::string>>& files,
                     const std::string& message);

  // origin.git's branch tip, or "" when there is no such branch.
  std::string tip(const std::string& branch) const;
  // Runs `git <args>` in origin.git.
  std::string origin_git(const std::string& args) const;
  // The content of `path` at origin's `branch`.
  std::string show(const std::string& branch, const std::string& path) const;
  // Commits on `branch` (all parents), newest first.
  std::vector<std::string> history(const std::string& branch) const;
  // The parents of `commit`.
  std::vector<std::string> parents(const std::string& commit) const;

  const std::filesystem::path& dir() const { return m_dir.path(); }
  std::string origin() const { return (m_dir.path() / "origin.git").string(); }
  std::filesystem::path cache(const std::string& name = "cache") const { return dir() / name; }

 private:
  temp_dir m_dir;
  std::filesystem::path m_work;
};

std::vector<std::string> split_lines(const std::string& text);

}  // namespace agentq::testing
