#include "e2e_support.hpp"

#include <csignal>
#include <stdexcept>
#include <thread>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

namespace agentq::testing {

namespace fs = std::filesystem;
using nlohmann::json;

runner_process::runner_process(const std::string& binary, const std::vector<std::string>& args,
                               const std::map<std::string, std::string>& env, const fs::path& log)
    : m_log(log) {
  std::vector<std::string> argv_text = {binary};
  argv_text.insert(argv_text.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_text) argv.push_back(a.data());
  argv.push_back(nullptr);
  m_pid = ::fork();
  if (m_pid < 0) throw std::runtime_error("fork failed");
  if (m_pid == 0) {
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    for (const char* name : {"AGENTQ_SERVER", "AGENTQ_TOKEN", "AGENTQ_AGENT_CMD",
                             "AGENTQ_REVIEW_CMD", "AGENTQ_WORKDIR"})
      ::unsetenv(name);
    for (const auto& [name, value] : env) ::setenv(name.c_str(), value.c_str(), 1);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
}

runner_process::~runner_process() {
  if (m_pid > 0 && m_status < 0) {
    ::kill(m_pid, SIGKILL);
    int st = 0;
    ::waitpid(m_pid, &st, 0);
  }
}

void runner_process::signal(int sig) {
  if (m_status < 0) ::kill(m_pid, sig);
}

int runner_process::wait(std::chrono::seconds limit) {
  if (m_status >= 0) return m_status;
  auto give_up = std::chrono::steady_clock::now() + limit;
  int st = 0;
  for (;;) {
    pid_t r = ::waitpid(m_pid, &st, WNOHANG);
    if (r == m_pid) break;
    if (std::chrono::steady_clock::now() > give_up) {
      ::kill(m_pid, SIGKILL);
      ::waitpid(m_pid, &st, 0);
      FAIL("the runner did not exit in time; its log:\n" << log());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  m_status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  return m_status;
}

std::string runner_process::log() const { return read_text(m_log); }

e2e_fixture::e2e_fixture(const std::vector<std::string>& server_flags)
    : server(db.url(), server_flags), admin(server.url(), admin_token) {
  origin = tmp / "origin.git";
  seed = make_origin(origin);
  auto r = admin.request("POST", "/v1/repos",
                         {{"name", "demo"}, {"url", origin.string()}, {"base_branch", "main"}});
  INFO(r.raw_body);
  REQUIRE(r.status == 201);
}

std::string e2e_fixture::scripts() const { return AGENTQ_SCRIPTS_DIR; }

std::int64_t e2e_fixture::add_task(const std::string& title, const std::string& body,
                                   const json& labels) {
  auto r = admin.request("POST", "/v1/tasks",
                         {{"title", title}, {"body", body}, {"repo", "demo"}, {"labels", labels}});
  INFO(r.raw_body);
  REQUIRE(r.status == 201);
  return r.body["task"]["id"].get<std::int64_t>();
}

json e2e_fixture::get_task(std::int64_t id) {
  auto r = admin.request("GET", "/v1/tasks/" + std::to_string(id));
  INFO(r.raw_body);
  REQUIRE(r.status == 200);
  return r.body;
}

std::string e2e_fixture::agent(const std::string& name, const std::string& role) {
  return make_agent(server.url(), name, role);
}

std::unique_ptr<runner_process> e2e_fixture::start(const std::string& role, const std::string& token,
                                                   const std::string& command,
                                                   const std::vector<std::string>& args,
                                                   const std::string& name,
                                                   const std::map<std::string, std::string>& extra_env) {
  const bool worker = role == "worker";
  std::map<std::string, std::string> env = {
      {"AGENTQ_SERVER", server.url()},
      {"AGENTQ_TOKEN", token},
      {worker ? "AGENTQ_AGENT_CMD" : "AGENTQ_REVIEW_CMD", command},
      {"AGENTQ_WORKDIR", (tmp / ("work-" + name)).string()},
      {"AGENTQ_TEST_DIR", tmp.path().string()},
  };
  for (const auto& [key, value] : extra_env) env[key] = value;
  return std::make_unique<runner_process>(worker ? AGENTQ_WORKER_BINARY : AGENTQ_REVIEWER_BINARY,
                                          args, env, tmp / (name + ".log"));
}

}  // namespace agentq::testing
