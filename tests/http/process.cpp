#include "process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "http_client.hpp"

namespace agentq::testing {
namespace {

std::vector<char*> as_argv(std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  return argv;
}

int exit_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

std::string read_all(int fd) {
  std::string out;
  char buffer[4096];
  ssize_t n;
  while ((n = ::read(fd, buffer, sizeof buffer)) > 0) out.append(buffer, static_cast<size_t>(n));
  return out;
}

}  // namespace

std::string test_repo_roots() {
  return "/tmp:" + std::filesystem::temp_directory_path().string();
}

temp_dir::temp_dir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "agentq-http-XXXXXX").string();
  if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
  m_path = pattern;
}

temp_dir::~temp_dir() {
  std::error_code ignored;
  std::filesystem::remove_all(m_path, ignored);
}

server_process::server_process(const std::string& database_url,
                               const std::vector<std::string>& extra, unsigned max_open_files) {
  int out[2];
  if (::pipe(out) != 0) throw std::runtime_error("pipe failed");
  const std::string log_path = (m_dir.path() / "server.log").string();
  std::vector<std::string> args = {AGENTQ_BINARY, "serve",       "--listen",
                                   "127.0.0.1:0", "--git-cache", (m_dir.path() / "git").string(),
                                   "--db-pool",   "4"};
  args.insert(args.end(), extra.begin(), extra.end());
  m_pid = ::fork();
  if (m_pid < 0) throw std::runtime_error("fork failed");
  if (m_pid == 0) {
    ::dup2(out[1], 1);
    int log = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (log >= 0) ::dup2(log, 2);
    ::close(out[0]);
    ::close(out[1]);
    ::setenv("AGENTQ_DATABASE_URL", database_url.c_str(), 1);
    ::setenv("AGENTQ_ADMIN_TOKEN", admin_token.c_str(), 1);
    // The tests' repositories live in temporary directories.
    ::setenv("AGENTQ_REPO_ROOTS", test_repo_roots().c_str(), 1);
    if (max_open_files > 0) {
      rlimit files{max_open_files, max_open_files};
      if (::setrlimit(RLIMIT_NOFILE, &files) != 0) ::_exit(126);
    }
    auto argv = as_argv(args);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(out[1]);
  // Read its stdout until the "listening on" line (bounded: a server that
  // cannot start fails the test instead of hanging it).
  std::string text;
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (text.find('\n') == std::string::npos && std::chrono::steady_clock::now() < give_up) {
    pollfd p{out[0], POLLIN, 0};
    if (::poll(&p, 1, 200) > 0) {
      char buffer[256];
      ssize_t n = ::read(out[0], buffer, sizeof buffer);
      if (n <= 0) break;
      text.append(buffer, static_cast<size_t>(n));
    }
  }
  m_stdout = out[0];
  auto pos = text.find("listening on ");
  if (pos == std::string::npos) {
    terminate();
    throw std::runtime_error("agentq serve did not start: " + text + "\n" + log());
  }
  auto colon = text.rfind(':', text.find('\n', pos));
  m_port = std::stoi(text.substr(colon + 1));
}

server_process::~server_process() {
  if (m_pid > 0) terminate();
}

int server_process::terminate() {
  if (m_pid <= 0) return -1;
  ::kill(m_pid, SIGTERM);
  int status = 0;
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (::waitpid(m_pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > give_up) {
      ::kill(m_pid, SIGKILL);
      ::waitpid(m_pid, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  m_pid = -1;
  if (m_stdout >= 0) ::close(m_stdout);
  m_stdout = -1;
  return exit_status(status);
}

std::string server_process::log() const {
  std::ifstream in(m_dir.path() / "server.log");
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

cli_result run_agentq(const std::vector<std::string>& args,
                      const std::map<std::string, std::string>& env) {
  temp_dir dir;
  const auto out_path = (dir.path() / "out").string(), err_path = (dir.path() / "err").string();
  std::vector<std::string> argv_text = {AGENTQ_BINARY};
  argv_text.insert(argv_text.end(), args.begin(), args.end());
  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(out, 1);
    ::dup2(err, 2);
    ::unsetenv("AGENTQ_SERVER");
    ::unsetenv("AGENTQ_TOKEN");
    for (const auto& [name, value] : env) ::setenv(name.c_str(), value.c_str(), 1);
    auto argv = as_argv(argv_text);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  cli_result result;
  result.exit_code = exit_status(status);
  int out = ::open(out_path.c_str(), O_RDONLY), err = ::open(err_path.c_str(), O_RDONLY);
  result.out = read_all(out);
  result.err = read_all(err);
  ::close(out);
  ::close(err);
  return result;
}

double metric(const std::string& server_url, const std::string& name) {
  http_client client(server_url, "");
  auto response = client.request("GET", "/metrics");
  std::istringstream lines(response.raw_body);
  std::string line;
  while (std::getline(lines, line))
    if (line.rfind(name + " ", 0) == 0) return std::stod(line.substr(name.size() + 1));
  return -1;
}

std::string sh(const std::string& command) {
  std::string out;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe) throw std::runtime_error("popen failed");
  char buffer[256];
  while (std::fgets(buffer, sizeof buffer, pipe)) out += buffer;
  if (::pclose(pipe) != 0) throw std::runtime_error("command failed: " + command);
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

repo_on_disk::repo_on_disk()
    : bare((dir.path() / "origin.git").string()), work((dir.path() / "work").string()) {
  sh("git init -q --bare -b main " + bare);
  sh("git init -q -b main " + work);
  sh("cd " + work + " && git -c user.name=t -c user.email=t@t commit -q --allow-empty -m init" +
     " && git push -q " + bare + " main 2>&1");
}

std::string repo_on_disk::push(const std::string& branch, const std::string& text) {
  sh("cd " + work + " && echo '" + text + "' > file.txt && git add file.txt && " +
     "git -c user.name=t -c user.email=t@t commit -q -m '" + text + "' && git push -q -f " +
     bare + " HEAD:refs/heads/" + branch + " 2>&1");
  return sh("cd " + work + " && git rev-parse HEAD");
}

std::string make_agent(const std::string& server_url, const std::string& name,
                       const std::string& role) {
  http_client client(server_url, admin_token);
  auto response = client.request("POST", "/v1/agents", {{"name", name}, {"role", role}});
  if (response.status != 201)
    throw std::runtime_error("make_agent " + name + ": " + response.raw_body);
  return response.body["token"].get<std::string>();
}

}  // namespace agentq::testing
