#include "runner/agent_process.hpp"

#include <atomic>
#include <cerrno>
#include <charconv>
#include <csignal>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <system_error>

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace agentq::runner {

namespace {

constexpr std::size_t max_line_bytes = 4096;

// Every command carries AGENTQ_RUN_ID=<runner pid>.<n> in its environment, and
// so does everything it starts: what left the process group (setsid, a
// daemon) is still found by it in /proc when the command ends.
constexpr const char* run_id_variable = "AGENTQ_RUN_ID";

// The leaders of the commands that run now, with their run ids. Guarded by
// one mutex that is also held across fork(), so a scan never mistakes a new
// leader for an adopted orphan.
std::mutex& live_mutex() {
  static std::mutex mutex;
  return mutex;
}
std::map<pid_t, std::string>& live_leaders() {
  static std::map<pid_t, std::string> leaders;
  return leaders;
}

// Orphans anywhere below this process reparent to it rather than to init, so
// what a command started and abandoned stays in reach (and is reaped here).
void become_subreaper() {
  static std::once_flag once;
  std::call_once(once, [] { prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); });
}

std::string read_proc_file(pid_t pid, const char* name) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/" + name, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// The parent and the state letter from /proc/<pid>/stat ("pid (comm) S ppid ...";
// comm may hold spaces and parentheses, so read after the last ')').
bool read_stat(pid_t pid, pid_t& ppid, char& state) {
  std::string stat = read_proc_file(pid, "stat");
  auto close = stat.rfind(')');
  if (close == std::string::npos || close + 4 >= stat.size()) return false;
  state = stat[close + 2];
  const char* begin = stat.data() + close + 4;
  return std::from_chars(begin, stat.data() + stat.size(), ppid).ec == std::errc();
}

bool holds_entry(const std::string& environ_text, const std::string& entry) {
  for (std::size_t start = 0; start < environ_text.size();) {
    auto end = environ_text.find('\0', start);
    if (end == std::string::npos) end = environ_text.size();
    if (environ_text.compare(start, end - start, entry) == 0) return true;
    start = end + 1;
  }
  return false;
}

[[noreturn]] void throw_errno(const std::string& what) {
  throw std::system_error(errno, std::generic_category(), what);
}

std::vector<std::string> child_environment(const process_spec& spec, const std::string& run_id) {
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
  env[run_id_variable] = run_id;
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
  become_subreaper();
  static std::atomic<unsigned> next_run{1};
  m_run_id = std::to_string(getpid()) + "." + std::to_string(next_run++);
  auto env_strings = child_environment(spec, m_run_id);
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
  std::unique_lock live(live_mutex());
  pid_t pid = fork();
  const int fork_errno = errno;
  if (pid == 0) exec_child(cwd.c_str(), null_fd, fds[1], argv, envp.data());
  if (pid > 0) live_leaders()[pid] = m_run_id;
  live.unlock();
  if (pid < 0) {
    int saved = fork_errno;
    close(fds[0]);
    close(fds[1]);
    close(null_fd);
    errno = saved;
    throw_errno("fork");
  }

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
  end_descendants();
  finish();
}

void agent_process::end_descendants() {
  if (m_descendants_ended.exchange(true)) return;
  const pid_t self = getpid();
  const std::string own_entry = std::string(run_id_variable) + "=" + m_run_id;
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  // Kill, look again, until a look finds nothing of this command alive: what
  // a dying process started meanwhile turns up in the next look.
  for (bool found = true; found && std::chrono::steady_clock::now() < give_up;) {
    found = false;
    std::lock_guard live(live_mutex());
    DIR* proc = opendir("/proc");
    if (!proc) break;
    while (dirent* entry = readdir(proc)) {
      pid_t pid = 0;
      const char* name = entry->d_name;
      if (std::from_chars(name, name + std::strlen(name), pid).ec != std::errc() || pid <= 0 ||
          pid == self || live_leaders().count(pid))
        continue;
      pid_t ppid = 0;
      char state = '?';
      if (!read_stat(pid, ppid, state)) continue;
      if (state == 'Z') {
        // Ended after it was adopted: only this process can reap it.
        if (ppid == self) waitpid(pid, nullptr, WNOHANG);
        continue;
      }
      const std::string env = read_proc_file(pid, "environ");
      bool ours = holds_entry(env, own_entry);
      if (!ours && ppid == self) {
        // An orphan this runner adopted: this command's, unless it carries
        // the run id of another command that still runs.
        ours = true;
        for (const auto& [leader, run_id] : live_leaders())
          if (run_id != m_run_id && holds_entry(env, std::string(run_id_variable) + "=" + run_id))
            ours = false;
      }
      if (!ours) continue;
      ::kill(pid, SIGKILL);
      found = true;
    }
    closedir(proc);
    if (found) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  std::lock_guard live(live_mutex());
  live_leaders().erase(m_pid);
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
      // And whatever left the group (setsid, a daemon), found by its run id.
      end_descendants();
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
