#include "runner/agent_process.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <map>
#include <system_error>

#include <fcntl.h>
#include <poll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace agentq::runner {

namespace {

constexpr std::size_t max_line_bytes = 4096;

[[noreturn]] void throw_errno(const std::string& what) {
  throw std::system_error(errno, std::generic_category(), what);
}

std::vector<std::string> child_environment(const process_spec& spec) {
  std::map<std::string, std::string> env;
  for (char** e = environ; e && *e; ++e) {
    std::string entry(*e);
    auto eq = entry.find('=');
    if (eq == std::string::npos) continue;
    std::string name = entry.substr(0, eq);
    if (is_runner_secret(name)) continue;
    env[name] = entry.substr(eq + 1);
  }
  for (const auto& name : spec.env_unset) env.erase(name);
  for (const auto& [name, value] : spec.env_set) env[name] = value;
  std::vector<std::string> out;
  out.reserve(env.size());
  for (const auto& [name, value] : env) out.push_back(name + "=" + value);
  return out;
}

// Between fork and exec only async-signal-safe calls: everything else was
// prepared before the fork.
[[noreturn]] void exec_child(const char* cwd, int null_fd, int out_fd, char* const argv[],
                             char* const envp[]) {
  setpgid(0, 0);
  if (chdir(cwd) != 0) {
    static const char msg[] = "agentq: cannot enter the checkout directory\n";
    (void)!write(out_fd, msg, sizeof msg - 1);
    _exit(127);
  }
  dup2(null_fd, STDIN_FILENO);
  dup2(out_fd, STDOUT_FILENO);
  dup2(out_fd, STDERR_FILENO);
  // No descriptor of the runner (sockets, other tasks' pipes) leaks into the
  // agent: another task's pipe held open here would never see its EOF.
  syscall(SYS_close_range, 3U, ~0U, 0U);
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGPIPE, SIGQUIT, SIGCHLD}) sigaction(sig, &dfl, nullptr);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);  // the runner blocks SIGTERM in its threads
  execve("/bin/sh", argv, envp);
  _exit(127);
}

}  // namespace

bool is_runner_secret(std::string_view name) {
  // The ssh-agent socket signs with the runner's keys as well as a key file would.
  if (name == "SSH_AUTH_SOCK") return true;
  if (!name.starts_with("AGENTQ_")) return false;
  // Every git credential (user name and public key included: they say whose
  // the secret is), the database's URL (it may hold a password), and
  // anything named like a secret: AGENTQ_TOKEN, AGENTQ_ADMIN_TOKEN,
  // AGENTQ_TOKEN_FILE, ...
  if (name.starts_with("AGENTQ_GIT_") || name == "AGENTQ_DATABASE_URL") return true;
  for (std::string_view word : {"TOKEN", "PASSWORD", "PASSPHRASE", "SECRET", "KEY"})
    if (name.find(word) != std::string_view::npos) return true;
  return false;
}

std::string exit_status::describe() const {
  if (exited) return "exit code " + std::to_string(code);
  const char* name = sigabbrev_np(signal);
  return "killed by signal " + std::to_string(signal) + (name ? std::string(" (SIG") + name + ")" : "");
}

agent_process::agent_process(const process_spec& spec, line_sink on_line)
    : m_on_line(std::move(on_line)) {
  std::string cwd = spec.cwd.string();
  std::string shell = "/bin/sh", dash_c = "-c", command = spec.command;
  char* argv[] = {shell.data(), dash_c.data(), command.data(), nullptr};
  auto env_strings = child_environment(spec);
  std::vector<char*> envp;
  for (auto& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);

  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) throw_errno("pipe2");
  int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (null_fd < 0) {
    close(fds[0]);
    close(fds[1]);
    throw_errno("open /dev/null");
  }
  pid_t pid = fork();
  if (pid < 0) {
    int saved = errno;
    close(fds[0]);
    close(fds[1]);
    close(null_fd);
    errno = saved;
    throw_errno("fork");
  }
  if (pid == 0) exec_child(cwd.c_str(), null_fd, fds[1], argv, envp.data());

  // Also from the parent, so the group exists before anyone may kill it.
  setpgid(pid, pid);
  m_pid = pid;
  close(fds[1]);
  close(null_fd);
  m_read_fd = fds[0];
  m_reader = std::thread([this] { read_output(m_read_fd); });
}

agent_process::~agent_process() {
  bool running;
  {
    std::lock_guard lock(m_mutex);
    running = !m_status.has_value();
  }
  if (running) {
    kill_group(SIGKILL);
    int st = 0;
    while (waitpid(m_pid, &st, 0) < 0 && errno == EINTR) {
    }
    std::lock_guard lock(m_mutex);
    m_group_gone = true;
  }
  finish();
}

void agent_process::read_output(int fd) {
  std::string pending;
  char buf[8192];
  auto emit = [&](std::string line) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    line = sanitize_text(line, max_line_bytes);
    if (m_on_line) m_on_line(line);
    m_output.add_line(std::move(line));
  };
  for (;;) {
    {
      std::lock_guard lock(m_drain_mutex);
      if (std::chrono::steady_clock::now() >= m_drain_deadline) break;
    }
    pollfd p{fd, POLLIN, 0};
    int ready = poll(&p, 1, 100);
    if (ready < 0 && errno != EINTR) break;
    if (ready <= 0) continue;
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // EOF: every writer (the group) is gone
    pending.append(buf, static_cast<std::size_t>(n));
    std::size_t start = 0;
    for (;;) {
      auto nl = pending.find('\n', start);
      if (nl == std::string::npos) break;
      emit(pending.substr(start, nl - start));
      start = nl + 1;
    }
    pending.erase(0, start);
    while (pending.size() > max_line_bytes) {
      emit(pending.substr(0, max_line_bytes));
      pending.erase(0, max_line_bytes);
    }
  }
  if (!pending.empty()) emit(pending);
}

void agent_process::finish() {
  {
    // A process that left the group may hold the pipe open forever; give the
    // output a second to end, then stop reading.
    std::lock_guard lock(m_drain_mutex);
    auto limit = std::chrono::steady_clock::now() + std::chrono::seconds(1);
    if (limit < m_drain_deadline) m_drain_deadline = limit;
  }
  if (m_reader.joinable()) m_reader.join();
  if (m_read_fd >= 0) {
    close(m_read_fd);
    m_read_fd = -1;
  }
}

std::optional<exit_status> agent_process::wait_for(std::chrono::milliseconds timeout) {
  {
    std::lock_guard lock(m_mutex);
    if (m_status) return m_status;
  }
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int st = 0;
    pid_t r = waitpid(m_pid, &st, WNOHANG);
    if (r == m_pid) {
      exit_status status;
      if (WIFEXITED(st)) {
        status.exited = true;
        status.code = WEXITSTATUS(st);
      } else {
        status.signal = WTERMSIG(st);
      }
      {
        std::lock_guard lock(m_mutex);
        // The leader is gone; whatever it left behind in its group goes too.
        killpg(m_pid, SIGKILL);
        m_group_gone = true;
        m_status = status;
      }
      finish();
      return status;
    }
    if (r < 0 && errno != EINTR) throw_errno("waitpid");
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

void agent_process::kill_group(int sig) {
  std::lock_guard lock(m_mutex);
  if (m_group_gone || m_pid <= 0) return;
  killpg(m_pid, sig);
}

exit_status agent_process::terminate(std::chrono::milliseconds grace) {
  kill_group(SIGTERM);
  if (auto status = wait_for(grace)) return *status;
  kill_group(SIGKILL);
  for (;;) {
    if (auto status = wait_for(std::chrono::seconds(10))) return *status;
  }
}

}  // namespace agentq::runner
