#include "git_fixture.hpp"

#include <array>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <sys/wait.h>

namespace agentq::testing {

temp_dir::temp_dir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "agentq-merge.XXXXXX").string();
  if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
  m_path = pattern;
}

temp_dir::~temp_dir() {
  std::error_code ignored;
  std::filesystem::remove_all(m_path, ignored);
}

std::string quote(const std::string& text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') out += "'\\''";
    else out += c;
  }
  return out + "'";
}

std::string sh(const std::string& command) {
  // The fixture's commits are made by a fixed identity, whatever the
  // machine's git configuration says.
  std::string full =
      "GIT_CONFIG_NOSYSTEM=1 HOME=/nonexistent GIT_AUTHOR_NAME=tester "
      "GIT_AUTHOR_EMAIL=tester@example.com GIT_COMMITTER_NAME=tester "
      "GIT_COMMITTER_EMAIL=tester@example.com; export GIT_CONFIG_NOSYSTEM HOME "
      "GIT_AUTHOR_NAME GIT_AUTHOR_EMAIL GIT_COMMITTER_NAME GIT_COMMITTER_EMAIL; (" +
      command + ") 2>&1";
  FILE* pipe = popen(full.c_str(), "r");
  if (!pipe) throw std::runtime_error("popen failed: " + command);
  std::string output;
  std::array<char, 4096> buffer;
  std::size_t n;
  while ((n = fread(buffer.data(), 1, buffer.size(), pipe)) > 0) output.append(buffer.data(), n);
  int status = pclose(pipe);
  if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
    throw std::runtime_error("command failed: " + command + "\n" + output);
  while (!output.empty() && output.back() == '\n') output.pop_back();
  return output;
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) lines.push_back(line);
  return lines;
}

git_fixture::git_fixture() : m_work(m_dir.path() / "work") {
  sh("git init -q --bare -b main " + quote(origin()));
  sh("git init -q -b main " + quote(m_work.string()));
  std::ofstream(m_work / "README") << "a project\n";
  sh("cd " + quote(m_work.string()) + " && git add -A && git commit -q -m 'first commit' && " +
     "git remote add origin " + quote(origin()) + " && git push -q origin main");
}

std::string git_fixture::commit(const std::string& branch, const std::string& from,
                                const std::map<std::string, std::optional<std::string>>& files,
                                const std::string& message) {
  std::string work = quote(m_work.string());
  sh("cd " + work + " && git fetch -q origin " + quote(from) + " && git checkout -q -B " +
     quote(branch) + " FETCH_HEAD");
  for (const auto& [path, content] : files) {
    auto full = m_work / path;
    if (content) {
      std::filesystem::create_directories(full.parent_path());
      std::ofstream(full, std::ios::binary | std::ios::trunc) << *content;
    } else {
      std::filesystem::remove(full);
    }
  }
  sh("cd " + work + " && git add -A && git commit -q -m " + quote(message) +
     " && git push -q -f origin HEAD:refs/heads/" + branch);
  return sh("cd " + work + " && git rev-parse HEAD");
}

std::string git_fixture::origin_git(const std::string& args) const {
  return sh("git --git-dir=" + quote(origin()) + " " + args);
}

std::string git_fixture::tip(const std::string& branch) const {
  try {
    return origin_git("rev-parse --verify -q refs/heads/" + branch);
  } catch (const std::runtime_error&) {
    return "";
  }
}

std::string git_fixture::show(const std::string& branch, const std::string& path) const {
  return origin_git("show " + quote("refs/heads/" + branch + ":" + path));
}

std::vector<std::string> git_fixture::history(const std::string& branch) const {
  return split_lines(origin_git("rev-list refs/heads/" + branch));
}

std::vector<std::string> git_fixture::parents(const std::string& commit) const {
  auto line = origin_git("rev-list --parents -n 1 " + commit);
  auto words = split_lines([&] {
    std::string out;
    for (char c : line) out += c == ' ' ? '\n' : c;
    return out;
  }());
  words.erase(words.begin());  // the commit itself
  return words;
}

}  // namespace agentq::testing
