#include "runner_support.hpp"

#include <array>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

namespace agentq::testing {

namespace fs = std::filesystem;

scratch_dir::scratch_dir() {
  std::string tmpl = (fs::temp_directory_path() / "agentq-runner-test.XXXXXX").string();
  if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
  m_path = tmpl;
}

scratch_dir::~scratch_dir() {
  std::error_code ec;
  fs::remove_all(m_path, ec);
}

std::string quote(const std::string& text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') out += "'\\''";
    else out += c;
  }
  return out + "'";
}

shell_result shell(const std::string& command) {
  shell_result result;
  std::string full = "(" + command + ") 2>&1";
  FILE* pipe = popen(full.c_str(), "r");
  if (!pipe) return result;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), pipe)) > 0) result.output.append(buf.data(), n);
  int status = pclose(pipe);
  result.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  while (!result.output.empty() && result.output.back() == '\n') result.output.pop_back();
  return result;
}

std::string must(const std::string& command) {
  auto result = shell(command);
  INFO("command: " << command << "\noutput: " << result.output);
  REQUIRE(result.status == 0);
  return result.output;
}

namespace {
const char* git_env =
    "GIT_AUTHOR_NAME=seed GIT_AUTHOR_EMAIL=seed@test GIT_COMMITTER_NAME=seed "
    "GIT_COMMITTER_EMAIL=seed@test GIT_CONFIG_NOSYSTEM=1 HOME=/nonexistent ";
}

std::string make_origin(const fs::path& path, const std::string& base) {
  fs::path seed = path.string() + ".seed";
  must("git init -q --bare -b " + quote(base) + " " + quote(path.string()));
  must("git init -q -b " + quote(base) + " " + quote(seed.string()));
  write_text(seed / "README.md", "# demo\n");
  write_text(seed / "test.sh", "#!/bin/sh\nexit 0\n");
  std::string git = std::string(git_env) + "git -C " + quote(seed.string()) + " ";
  must(git + "add -A");
  must(git + "commit -q -m seed");
  must(git + "push -q " + quote(path.string()) + " " + quote(base));
  std::string sha = must(git + "rev-parse HEAD");
  fs::remove_all(seed);
  return sha;
}

std::string rev_parse(const fs::path& repo, const std::string& rev) {
  auto r = shell("git --git-dir=" + quote(repo.string()) + " rev-parse --verify -q " +
                 quote(rev + "^{commit}"));
  return r.status == 0 ? r.output : "";
}

std::string list_refs(const fs::path& repo) {
  return must("git --git-dir=" + quote(repo.string()) +
              " for-each-ref --format='%(objectname) %(refname)' | sort");
}

std::string show_file(const fs::path& repo, const std::string& rev, const std::string& path) {
  auto r = shell("git --git-dir=" + quote(repo.string()) + " show " + quote(rev + ":" + path));
  return r.status == 0 ? r.output : "";
}

std::string read_text(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_text(const fs::path& file, const std::string& text) {
  fs::create_directories(file.parent_path());
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out << text;
}

bool group_alive(int pgid) { return ::kill(-pgid, 0) == 0 || errno == EPERM; }

bool process_alive(int pid) {
  if (::kill(pid, 0) != 0) return false;
  // A zombie (waiting for its parent to reap it) does not count as alive.
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string content((std::istreambuf_iterator<char>(stat)), {});
  auto close = content.rfind(')');
  return close == std::string::npos || close + 2 >= content.size() || content[close + 2] != 'Z';
}

}  // namespace agentq::testing
