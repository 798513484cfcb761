#include "git/git_process.hpp"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <thread>

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gitcore/credentials.hpp"
#include "gitcore/handles.hpp"

extern char** environ;

namespace agentq::git {
namespace {

using clock = std::chrono::steady_clock;

// Beyond this a child's output is dropped (ls-remote of a huge repository):
// what the gateway reads is at the start.
constexpr std::size_t max_output = 16 * 1024 * 1024;

class fd_guard {
 public:
  explicit fd_guard(int fd = -1) : m_fd(fd) {}
  ~fd_guard() { reset(); }
  fd_guard(const fd_guard&) = delete;
  fd_guard& operator=(const fd_guard&) = delete;
  int get() const { return m_fd; }
  void reset() {
    if (m_fd >= 0) ::close(m_fd);
    m_fd = -1;
  }

 private:
  int m_fd;
};

std::vector<std::string> environment() {
  auto overrides = cli_environment(/*connect_timeout_s=*/10);
  std::vector<std::string> env;
  for (char** e = environ; e && *e; ++e) {
    std::string entry(*e);
    auto name = entry.substr(0, entry.find('='));
    bool replaced = std::any_of(overrides.begin(), overrides.end(),
                                [&](const auto& o) { return o.first == name; });
    if (!replaced) env.push_back(std::move(entry));
  }
  for (const auto& [name, value] : overrides) env.push_back(name + "=" + value);
  return env;
}

std::vector<char*> pointers(std::vector<std::string>& strings) {
  std::vector<char*> result;
  for (auto& s : strings) result.push_back(s.data());
  result.push_back(nullptr);
  return result;
}

int remaining_ms(clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
  return static_cast<int>(std::max<long long>(0, left.count()));
}

}  // namespace

git_run run_git(const std::vector<std::string>& args,
                const std::optional<std::filesystem::path>& git_dir,
                clock::time_point deadline) {
  if (clock::now() >= deadline) {  // the wait in the queue took it all: do not start
    git_run late;
    late.timed_out = true;
    return late;
  }
  std::vector<std::string> argv{"git"};
  if (git_dir) argv.push_back("--git-dir=" + git_dir->string());
  for (auto& option : cli_credential_options()) argv.push_back(std::move(option));
  argv.insert(argv.end(), args.begin(), args.end());
  auto env = environment();

  int out_pipe[2], err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) throw failure("cannot start git: no pipe");
  fd_guard out_read(out_pipe[0]), out_write(out_pipe[1]);
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) throw failure("cannot start git: no pipe");
  fd_guard err_read(err_pipe[0]), err_write(err_pipe[1]);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out_write.get(), 1);
  posix_spawn_file_actions_adddup2(&actions, err_write.get(), 2);
  // The server's sockets and database connections stay out of the child.
  posix_spawn_file_actions_addclosefrom_np(&actions, 3);
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  posix_spawnattr_setpgroup(&attributes, 0);  // a group of its own: killed whole
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attributes, &none);  // the server blocks SIGTERM/SIGINT
  posix_spawnattr_setsigdefault(&attributes, &all);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                            POSIX_SPAWN_SETSIGDEF);
  auto argp = pointers(argv);
  auto envp = pointers(env);
  pid_t pid = -1;
  int rc = posix_spawnp(&pid, "git", &actions, &attributes, argp.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  if (rc != 0) throw failure(std::string("cannot start git: ") + std::strerror(rc));
  out_write.reset();
  err_write.reset();

  git_run run;
  pollfd fds[2] = {{out_read.get(), POLLIN, 0}, {err_read.get(), POLLIN, 0}};
  std::string* sinks[2] = {&run.out, &run.err};
  int open_pipes = 2;
  char buffer[65536];
  while (open_pipes > 0) {
    int wait = remaining_ms(deadline);
    if (wait == 0) {
      run.timed_out = true;
      break;
    }
    int ready = ::poll(fds, 2, wait);
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t n = ::read(fds[i].fd, buffer, sizeof buffer);
      if (n > 0) {
        if (sinks[i]->size() < max_output) sinks[i]->append(buffer, static_cast<std::size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        fds[i].fd = -1;
        --open_pipes;
      }
    }
  }
  // Both pipes closed: git is exiting. Wait for it, still within the deadline.
  int status = 0;
  while (!run.timed_out) {
    pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid) {
      run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      return run;
    }
    if (remaining_ms(deadline) == 0) {
      run.timed_out = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ::kill(-pid, SIGKILL);  // git and every transport it started
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  run.exit_code = -1;
  if (git_dir) remove_stale_locks(*git_dir);
  return run;
}

void remove_stale_locks(const std::filesystem::path& git_dir) {
  namespace fs = std::filesystem;
  std::error_code error;
  for (fs::recursive_directory_iterator it(git_dir, error), end; !error && it != end;
       it.increment(error)) {
    const auto name = it->path().filename().string();
    const bool lock = name.ends_with(".lock");
    const bool temporary_pack = it->path().parent_path().filename() == "pack" &&
                                (name.starts_with("tmp_pack_") || name.starts_with("tmp_idx_"));
    if ((lock || temporary_pack) && it->is_regular_file(error)) {
      std::error_code ignored;
      fs::remove(it->path(), ignored);
    }
  }
}

}  // namespace agentq::git
