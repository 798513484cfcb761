// agent_process: real /bin/sh children in their own process group.
#include <cerrno>
#include <chrono>
#include <csignal>
#include <mutex>
#include <thread>
#include <vector>

#include <unistd.h>

#include <catch2/catch.hpp>

#include "runner/agent_process.hpp"
#include "runner_support.hpp"

using namespace agentq::runner;
using namespace agentq::testing;
using namespace std::chrono_literals;

namespace {

// Polls `condition` for up to a minute: the tests wait for events, they do
// not measure how long those take.
template <class F>
bool eventually(F condition) {
  auto give_up = std::chrono::steady_clock::now() + 60s;
  while (std::chrono::steady_clock::now() < give_up) {
    if (condition()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return condition();
}

exit_status run_to_end(agent_process& p) {
  for (;;)
    if (auto s = p.wait_for(10s)) return *s;
}

}  // namespace

TEST_CASE("process exit codes and signals are reported as they happened", "[process]") {
  scratch_dir dir;
  {
    agent_process p({"exit 0", dir.path(), {}, {}});
    auto s = run_to_end(p);
    CHECK(s.success());
    CHECK(s.describe() == "exit code 0");
  }
  {
    agent_process p({"exit 1", dir.path(), {}, {}});
    auto s = run_to_end(p);
    CHECK_FALSE(s.success());
    CHECK(s.exited);
    CHECK(s.code == 1);
  }
  {
    agent_process p({"exit 42", dir.path(), {}, {}});
    CHECK(run_to_end(p).code == 42);
  }
  {
    agent_process p({"kill -9 $$", dir.path(), {}, {}});
    auto s = run_to_end(p);
    CHECK_FALSE(s.exited);
    CHECK(s.signal == SIGKILL);
    CHECK(s.describe().find("SIGKILL") != std::string::npos);
  }
  {
    agent_process p({"this-command-does-not-exist-agentq", dir.path(), {}, {}});
    CHECK(run_to_end(p).code == 127);
  }
}

TEST_CASE("output is streamed line by line and its tail kept", "[process]") {
  scratch_dir dir;
  std::mutex m;
  std::vector<std::string> lines;
  agent_process p({"i=1; while [ $i -le 30 ]; do echo line $i; i=$((i+1)); done; echo oops >&2; "
                   "printf 'no newline'",
                   dir.path(), {}, {}},
                  [&](const std::string& line) {
                    std::lock_guard lock(m);
                    lines.push_back(line);
                  });
  CHECK(run_to_end(p).success());
  std::lock_guard lock(m);
  REQUIRE(lines.size() == 32);
  CHECK(lines.front() == "line 1");
  CHECK(lines[29] == "line 30");
  CHECK(lines[30] == "oops");  // stderr too
  CHECK(lines.back() == "no newline");
  CHECK(p.output().last_line() == "no newline");
  auto tail = p.output().last_lines(20);
  CHECK(tail.rfind("line 13\n", 0) == 0);  // the last 20 lines start at line 13
  CHECK(tail.find("line 12\n") == std::string::npos);
  CHECK(p.output().line_count() == 32);
}

TEST_CASE("the command runs in its directory with the task's environment", "[process]") {
  scratch_dir dir;
  setenv("AGENTQ_TOKEN", "secret-bearer", 1);
  agent_process p({"pwd; echo id=$AGENTQ_TASK_ID; echo token=${AGENTQ_TOKEN:-unset}; "
                   "read x || echo stdin-empty",
                   dir.path(),
                   {{"AGENTQ_TASK_ID", "17"}},
                   {"AGENTQ_TOKEN"}});
  CHECK(run_to_end(p).success());
  unsetenv("AGENTQ_TOKEN");
  auto out = p.output().last_lines(10);
  CHECK(out.find(std::filesystem::canonical(dir.path()).string()) != std::string::npos);
  CHECK(out.find("id=17") != std::string::npos);
  CHECK(out.find("token=unset") != std::string::npos);
  CHECK(out.find("stdin-empty") != std::string::npos);
}

TEST_CASE("no secret of the runner reaches a command, asked or not", "[process]") {
  scratch_dir dir;
  setenv("AGENTQ_GIT_PASSWORD", "pw", 1);
  setenv("AGENTQ_GIT_SSH_PASSPHRASE", "pp", 1);
  agent_process p({"echo pw=${AGENTQ_GIT_PASSWORD:-unset} pp=${AGENTQ_GIT_SSH_PASSPHRASE:-unset}",
                   dir.path(), {}, {}});
  CHECK(run_to_end(p).success());
  unsetenv("AGENTQ_GIT_PASSWORD");
  unsetenv("AGENTQ_GIT_SSH_PASSPHRASE");
  CHECK(p.output().last_line() == "pw=unset pp=unset");

  for (const char* name : {"AGENTQ_TOKEN", "AGENTQ_ADMIN_TOKEN", "AGENTQ_TOKEN_FILE",
                           "AGENTQ_GIT_USERNAME", "AGENTQ_GIT_SSH_KEY", "AGENTQ_DATABASE_URL",
                           "AGENTQ_WEBHOOK_SECRET", "SSH_AUTH_SOCK"}) {
    INFO(name);
    CHECK(is_runner_secret(name));
  }
  for (const char* name : {"AGENTQ_TASK_ID", "AGENTQ_TASK_FILE", "AGENTQ_WORKDIR",
                           "AGENTQ_SERVER", "PATH", "HOME", "GIT_AUTHOR_NAME"}) {
    INFO(name);
    CHECK_FALSE(is_runner_secret(name));
  }
}

TEST_CASE("terminate kills the whole group - grandchildren included", "[process]") {
  scratch_dir dir;
  auto pidfile = dir / "grandchild.pid";
  // The shell starts a background grandchild that ignores nothing, and a
  // foreground sleep; both must die with the group.
  agent_process p({"sleep 600 & echo $! > grandchild.pid; echo started; sleep 600", dir.path(),
                   {}, {}});
  REQUIRE(eventually([&] { return p.output().last_line() == "started"; }));
  int grandchild = std::stoi(read_text(pidfile));
  REQUIRE(process_alive(grandchild));
  CHECK_FALSE(p.wait_for(50ms).has_value());
  auto s = p.terminate(5s);
  CHECK_FALSE(s.exited);
  CHECK(eventually([&] { return !process_alive(grandchild); }));
  CHECK(eventually([&] { return !group_alive(p.pid()); }));
}

namespace {

// A command that leaves its process group the way a daemon does: a
// background subshell runs setsid, whose shell writes its pid and becomes a
// long sleep in a session of its own.
const char* const escaping_command =
    "( setsid sh -c 'echo $$ > daemon.pid.tmp; mv daemon.pid.tmp daemon.pid; exec sleep 600' & ); "
    "while [ ! -s daemon.pid ]; do sleep 0.05; done; echo started; sleep 600";

int escaped_daemon(const scratch_dir& dir, const agent_process& p) {
  REQUIRE(eventually([&] { return p.output().last_line() == "started"; }));
  int daemon = std::stoi(read_text(dir / "daemon.pid"));
  REQUIRE(process_alive(daemon));
  REQUIRE(getsid(daemon) != p.pid());  // it did leave the group's session
  return daemon;
}

// Gone for good: killed and reaped (kill(pid, 0) finds no such process).
bool gone(int pid) { return ::kill(pid, 0) != 0 && errno == ESRCH; }

}  // namespace

TEST_CASE("a child that calls setsid dies with the command on timeout", "[process]") {
  scratch_dir dir;
  agent_process p({escaping_command, dir.path(), {}, {}});
  int daemon = escaped_daemon(dir, p);
  p.terminate(200ms);
  CHECK(eventually([&] { return gone(daemon); }));
}

TEST_CASE("a child that calls setsid dies with the command on cancel or a lost lease",
          "[process]") {
  scratch_dir dir;
  agent_process p({escaping_command, dir.path(), {}, {}});
  int daemon = escaped_daemon(dir, p);
  std::thread killer([&] { p.kill_group(SIGKILL); });  // what the lease keeper does
  killer.join();
  CHECK(run_to_end(p).signal == SIGKILL);
  CHECK(eventually([&] { return gone(daemon); }));
}

TEST_CASE("a daemon a finished command left behind is ended with it - another command's is not",
          "[process]") {
  scratch_dir first_dir, second_dir;
  agent_process second({escaping_command, second_dir.path(), {}, {}});
  int other = escaped_daemon(second_dir, second);
  {
    agent_process first({"( setsid sh -c 'echo $$ > daemon.pid; exec sleep 600' & ); "
                         "while [ ! -s daemon.pid ]; do sleep 0.05; done; exit 0",
                         first_dir.path(), {}, {}});
    CHECK(run_to_end(first).success());
    int daemon = std::stoi(read_text(first_dir / "daemon.pid"));
    CHECK(eventually([&] { return gone(daemon); }));
  }
  // The other command, still running, keeps its daemon until it ends.
  CHECK(process_alive(other));
  second.terminate(200ms);
  CHECK(eventually([&] { return gone(other); }));
}

TEST_CASE("a command that ignores SIGTERM is killed after the grace", "[process]") {
  scratch_dir dir;
  agent_process p({"trap '' TERM; echo ready; while :; do sleep 1; done", dir.path(), {}, {}});
  REQUIRE(eventually([&] { return p.output().last_line() == "ready"; }));
  auto s = p.terminate(200ms);
  CHECK_FALSE(s.exited);
  CHECK(s.signal == SIGKILL);
}

TEST_CASE("kill_group from another thread stops the command at once", "[process]") {
  scratch_dir dir;
  agent_process p({"echo go; sleep 600 & sleep 600", dir.path(), {}, {}});
  REQUIRE(eventually([&] { return p.output().last_line() == "go"; }));
  std::thread killer([&] { p.kill_group(SIGKILL); });
  killer.join();
  auto s = run_to_end(p);
  CHECK(s.signal == SIGKILL);
  CHECK(eventually([&] { return !group_alive(p.pid()); }));
}

TEST_CASE("what a command leaves running in its group is killed when it exits", "[process]") {
  scratch_dir dir;
  agent_process p({"sleep 600 & echo $! > bg.pid; exit 0", dir.path(), {}, {}});
  CHECK(run_to_end(p).success());
  int bg = std::stoi(read_text(dir / "bg.pid"));
  CHECK(eventually([&] { return !process_alive(bg); }));
}

TEST_CASE("sanitize_text makes any output acceptable to the server", "[process]") {
  CHECK(sanitize_text("plain", 100) == "plain");
  CHECK(sanitize_text(std::string("a\0b", 3), 100) == "ab");
  CHECK(sanitize_text("bad \xff byte", 100) == "bad \xEF\xBF\xBD byte");
  CHECK(sanitize_text("caf\xC3\xA9", 100) == "caf\xC3\xA9");
  // Cut from the front, on a character boundary.
  CHECK(sanitize_text("0123456789", 4) == "6789");
  CHECK(sanitize_text("x\xC3\xA9y", 2) == "y");
  auto out = sanitize_text(std::string(100000, 'z'), 65536);
  CHECK(out.size() == 65536);
}

TEST_CASE("output_tail keeps the last lines and a bounded tail", "[process]") {
  output_tail tail(3, 20);
  CHECK(tail.last_line().empty());
  for (int i = 0; i < 10; ++i) tail.add_line("line" + std::to_string(i));
  CHECK(tail.last_line() == "line9");
  CHECK(tail.last_lines(3) == "line7\nline8\nline9");
  CHECK(tail.tail_text() == "line7\nline8\nline9");  // 18 bytes fit in 20
  CHECK(tail.line_count() == 10);
}
