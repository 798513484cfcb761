#pragma once
// Helpers for the runner tests: temporary directories, running shell
// commands, and real git repositories on disk. Tests check what the runner
// did with the git command line — an implementation independent of libgit2.

#include <filesystem>
#include <string>

namespace agentq::testing {

// A fresh directory under /tmp, removed with everything in it at the end.
class scratch_dir {
 public:
  scratch_dir();
  ~scratch_dir();
  scratch_dir(const scratch_dir&) = delete;
  scratch_dir& operator=(const scratch_dir&) = delete;
  const std::filesystem::path& path() const { return m_path; }
  std::filesystem::path operator/(const std::string& name) const { return m_path / name; }

 private:
  std::filesystem::path m_path;
};

struct shell_result {
  int status = -1;  // exit code, or -1
  std::string output;  // stdout and stderr
};

// Runs `command` with /bin/sh -c; output trimmed of its final newline.
shell_result shell(const std::string& command);
// Like shell(), but fails the test unless the command exits 0.
std::string must(const std::string& command);

// A shell-quoted argument.
std::string quote(const std::string& text);

// A bare repository at `path` whose branch `base` holds one commit with
// README.md and test.sh (which exits 0). Answers that commit's id.
std::string make_origin(const std::filesystem::path& path, const std::string& base = "main");

// `git --git-dir=<repo> rev-parse <rev>`, or "" when it does not resolve.
std::string rev_parse(const std::filesystem::path& repo, const std::string& rev);
// Every ref of the repository, one "<sha> <name>" per line, sorted.
std::string list_refs(const std::filesystem::path& repo);
// A file's content at a commit, or "" when it is not there.
std::string show_file(const std::filesystem::path& repo, const std::string& rev,
                      const std::string& path);

std::string read_text(const std::filesystem::path& file);
void write_text(const std::filesystem::path& file, const std::string& text);

// Is any process of this process group still alive?
bool group_alive(int pgid);
// Is this process alive (and not a zombie)?
bool process_alive(int pid);

}  // namespace agentq::testing
