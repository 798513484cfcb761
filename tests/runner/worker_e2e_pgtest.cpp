// agentq-worker end to end: a real server on a fresh database, a bare origin
// repository, real runner processes and real agent commands (issue 4).
#include <csignal>
#include <filesystem>

#include <catch2/catch.hpp>

#include "e2e_support.hpp"
#include "runner/agent_health.hpp"
#include "runner/claim_session.hpp"
#include "runner/job_steps.hpp"

using namespace agentq::testing;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

const std::vector<std::string> quick = {"--wait-s", "2", "--idle-exit", "90"};

std::vector<std::string> with(std::vector<std::string> extra) {
  extra.insert(extra.end(), quick.begin(), quick.end());
  return extra;
}

std::string claim_branch_of(const json& claim, std::int64_t id) {
  return "agentq/" + std::to_string(id) + "/" + std::to_string(claim["token"].get<std::int64_t>());
}

// The last event of a kind, or null.
json last_event(const json& answer, const std::string& kind) {
  json found;
  for (const auto& e : answer["events"])
    if (e["kind"] == kind) found = e;
  return found;
}

// Every ref of the origin under refs/heads/agentq/<id>/.
std::string task_refs(const fs::path& origin, std::int64_t id) {
  auto r = shell("git --git-dir=" + quote(origin.string()) +
                 " for-each-ref --format='%(refname)' refs/heads/agentq/" + std::to_string(id) + "/");
  return r.output;
}

}  // namespace

TEST_CASE("three tasks through one worker end awaiting review on their fenced branches", "[e2e][worker]") {
  e2e_fixture f;
  auto token = f.agent("worker-1", "worker");
  std::vector<std::int64_t> ids;
  for (int i = 1; i <= 3; ++i)
    ids.push_back(f.add_task("note " + std::to_string(i),
                             "Please add a note.\ncreate notes/n" + std::to_string(i) + ".txt note " +
                                 std::to_string(i) + "\n"));

  auto worker = f.start("worker", token, f.example_worker(), with({"--max-tasks", "3"}), "w1");
  INFO(worker->log());
  REQUIRE(worker->wait() == 0);
  INFO(worker->log());

  for (int i = 1; i <= 3; ++i) {
    auto id = ids[i - 1];
    auto answer = f.get_task(id);
    CHECK(answer["task"]["state"] == "awaiting_review");
    REQUIRE(answer["claims"].size() == 1);
    REQUIRE(answer["submissions"].size() == 1);
    const auto& sub = answer["submissions"][0];
    const std::string branch = claim_branch_of(answer["claims"][0], id);
    CHECK(sub["branch"] == branch);
    CHECK(sub["worker"] == "worker-1");
    // The submitted commit is the tip of the claim's branch and holds the change.
    CHECK(rev_parse(f.origin, "refs/heads/" + branch) == sub["commit"]);
    CHECK(show_file(f.origin, sub["commit"], "notes/n" + std::to_string(i) + ".txt") ==
          "note " + std::to_string(i));
    CHECK(must("git --git-dir=" + quote(f.origin.string()) + " log -1 --format=%an " +
               sub["commit"].get<std::string>()) == "worker-1");
    // The summary is the agent's .agentq/summary.md.
    CHECK(sub["summary"].get<std::string>().find("create notes/n" + std::to_string(i) + ".txt") !=
          std::string::npos);
    // The progress heartbeat and commit never carry runner files.
    CHECK(show_file(f.origin, sub["commit"], ".agentq/summary.md").empty());
  }
  // The base branch is untouched; no other branch appeared.
  CHECK(rev_parse(f.origin, "refs/heads/main") == f.seed);
  CHECK(list_refs(f.origin).find("refs/heads/agentq/") != std::string::npos);
  auto refs = list_refs(f.origin);
  CHECK(std::count(refs.begin(), refs.end(), '\n') == 3);  // main + three branches
  // One work tree served the three tasks in turn and holds nothing of
  // them; their local branches are gone.
  auto checkouts = f.tmp / "work-w1" / "checkouts" / "demo";
  CHECK(fs::is_directory(checkouts / "w-0"));
  CHECK_FALSE(fs::exists(checkouts / "w-1"));
  CHECK(must("git -C " + quote((checkouts / "w-0").string()) +
             " status --porcelain --ignored --untracked-files=all")
            .find(".txt") == std::string::npos);
  CHECK(list_refs(f.tmp / "work-w1" / "mirrors" / "demo.git").find("refs/heads/agentq/") ==
        std::string::npos);
}

TEST_CASE("heartbeats keep a short lease alive and cancelling stops the agent's group with "
          "nothing pushed", "[e2e][worker]") {
  e2e_fixture f;
  auto token = f.agent("worker-1", "worker");
  auto other = f.agent("worker-2", "worker");
  auto id = f.add_task("long job", "works for a long time");
  // The agent and a child of its own both run until killed.
  // And one that left the group for a session of its own (setsid, double fork).
  std::string agent = "echo $$ > \"$AGENTQ_TEST_DIR/agent.pid\"; sleep 600 & "
                      "echo $! > \"$AGENTQ_TEST_DIR/child.pid\"; "
                      "( setsid sh -c 'echo $$ > \"$AGENTQ_TEST_DIR/daemon.pid\"; "
                      "exec sleep 600' & ); i=0; "
                      "while [ $i -lt 600 ]; do i=$((i+1)); echo \"tick $i\"; "
                      "echo $i > \"$AGENTQ_TEST_DIR/ticks\"; sleep 1; done";
  auto worker = f.start("worker", token, agent, with({"--max-tasks", "1", "--lease-s", "5"}), "w1");
  REQUIRE(eventually([&] { return fs::exists(f.tmp / "child.pid") && fs::exists(f.tmp / "ticks"); }));
  int agent_pid = std::stoi(read_text(f.tmp / "agent.pid"));
  int child_pid = std::stoi(read_text(f.tmp / "child.pid"));
  REQUIRE(eventually([&] { return !read_text(f.tmp / "daemon.pid").empty(); }));
  int daemon_pid = std::stoi(read_text(f.tmp / "daemon.pid"));

  // Run well past two leases.
  REQUIRE(eventually([&] {
    auto t = read_text(f.tmp / "ticks");
    return !t.empty() && std::stoi(t) >= 13;
  }));
  auto answer = f.get_task(id);
  CHECK(answer["task"]["state"] == "working");
  REQUIRE(answer["claims"].size() == 1);
  CHECK_FALSE(answer["claims"][0]["heartbeat_at"].is_null());
  CHECK(answer["claims"][0]["progress"].get<std::string>().rfind("tick ", 0) == 0);
  // The lease is live: another worker gets nothing.
  agentq::http_client second(f.server.url(), other);
  auto claim = second.request("POST", "/v1/claims", {{"wait_s", 0}});
  CHECK(claim.status == 204);
  CHECK(process_alive(agent_pid));

  auto cancel = f.admin.request("POST", "/v1/tasks/" + std::to_string(id) + "/cancel",
                                json::object());
  REQUIRE(cancel.status == 200);
  CHECK(eventually([&] { return !process_alive(agent_pid) && !process_alive(child_pid); }));
  CHECK(eventually([&] { return !process_alive(daemon_pid); }));
  CHECK(worker->wait() == 0);
  INFO(worker->log());
  CHECK(worker->log().find("event=lease_lost") != std::string::npos);
  CHECK(f.state(id) == "cancelled");
  CHECK(task_refs(f.origin, id).empty());
  CHECK(f.get_task(id)["submissions"].empty());
}

TEST_CASE("a worker killed mid-task: the task is reclaimed with a higher token and the late "
          "branch is never what gets submitted", "[e2e][worker]") {
  e2e_fixture f;
  auto first = f.agent("worker-1", "worker");
  auto second = f.agent("worker-2", "worker");
  auto id = f.add_task("survive a crash", "create crash.txt recovered\n");

  std::string stuck = "echo $$ > \"$AGENTQ_TEST_DIR/stuck.pid\"; echo working; exec sleep 600";
  auto doomed = f.start("worker", first, stuck, with({"--lease-s", "5"}), "w1");
  REQUIRE(eventually([&] { return fs::exists(f.tmp / "stuck.pid"); }));
  int stuck_pid = std::stoi(read_text(f.tmp / "stuck.pid"));
  doomed->signal(SIGKILL);
  CHECK(doomed->wait() == 128 + SIGKILL);
  auto before = f.get_task(id);
  REQUIRE(before["claims"].size() == 1);
  auto old_token = before["claims"][0]["token"].get<std::int64_t>();

  // The late worker's branch, as if it pushed after all.
  auto late_dir = f.tmp / "late";
  must("git clone -q " + quote(f.origin.string()) + " " + quote(late_dir.string()));
  write_text(late_dir / "crash.txt", "late work\n");
  std::string late_git = "GIT_AUTHOR_NAME=late GIT_AUTHOR_EMAIL=l@x GIT_COMMITTER_NAME=late "
                         "GIT_COMMITTER_EMAIL=l@x git -C " + quote(late_dir.string()) + " ";
  must(late_git + "add -A && " + late_git + "commit -q -m late");
  std::string late_branch = "agentq/" + std::to_string(id) + "/" + std::to_string(old_token);
  must(late_git + "push -q origin HEAD:refs/heads/" + late_branch);
  std::string late_commit = rev_parse(f.origin, "refs/heads/" + late_branch);

  auto rescuer = f.start("worker", second, f.example_worker(), with({"--max-tasks", "1"}), "w2");
  REQUIRE(rescuer->wait() == 0);
  INFO(rescuer->log());
  auto after = f.get_task(id);
  CHECK(after["task"]["state"] == "awaiting_review");
  REQUIRE(after["claims"].size() == 2);
  auto new_token = after["claims"][1]["token"].get<std::int64_t>();
  CHECK(new_token > old_token);
  CHECK(after["claims"][1]["agent"] == "worker-2");
  REQUIRE(after["submissions"].size() == 1);
  const auto& sub = after["submissions"][0];
  CHECK(sub["branch"] == "agentq/" + std::to_string(id) + "/" + std::to_string(new_token));
  CHECK(sub["commit"] != late_commit);
  CHECK(sub["commit"] == rev_parse(f.origin, "refs/heads/" + sub["branch"].get<std::string>()));
  CHECK(show_file(f.origin, sub["commit"], "crash.txt") == "recovered");
  // A late submit with the old token is refused.
  agentq::http_client late(f.server.url(), first);
  auto refused = late.request("POST", "/v1/tasks/" + std::to_string(id) + "/submit",
                              {{"token", old_token}, {"branch", late_branch},
                               {"commit", late_commit}, {"summary", "late"}});
  CHECK(refused.status == 409);
  CHECK(f.get_task(id)["submissions"].size() == 1);
  ::kill(-stuck_pid, SIGKILL);  // the orphaned agent of the killed runner
}

TEST_CASE("agent failure and timeout and no change each release the task with the reason", "[e2e][worker]") {
  // A long backoff keeps released tasks from coming straight back.
  e2e_fixture f({"--retry-backoff-s", "600"});
  auto token = f.agent("worker-1", "worker");
  auto failing = f.add_task("fails", "fail 3\n");
  auto idle = f.add_task("does nothing", "noop\n");
  auto slow = f.add_task("too slow", "sleep 600\n");
  auto worker = f.start("worker", token, f.example_worker(),
                        with({"--max-tasks", "3", "--task-timeout", "3", "--kill-grace", "1"}), "w1");
  REQUIRE(worker->wait() == 0);
  INFO(worker->log());

  auto reason_of = [&](std::int64_t id) {
    auto answer = f.get_task(id);
    CHECK(answer["task"]["state"] == "queued");
    CHECK(answer["submissions"].empty());
    auto e = last_event(answer, "released");
    REQUIRE_FALSE(e.is_null());
    CHECK(e["detail"]["retry"] == true);
    CHECK(task_refs(f.origin, id).empty());
    return e["detail"]["reason"].get<std::string>();
  };
  auto r1 = reason_of(failing);
  CHECK(r1.rfind("agent failed: the command ended with exit code 3", 0) == 0);
  CHECK(r1.find("giving up") != std::string::npos);  // its last line
  CHECK(reason_of(idle).rfind("no change:", 0) == 0);
  CHECK(reason_of(slow).rfind("timeout:", 0) == 0);
}

TEST_CASE("SIGTERM: no new claims - the task in hand is stopped and released within the grace", "[e2e][worker]") {
  e2e_fixture f({"--retry-backoff-s", "600"});
  auto token = f.agent("worker-1", "worker");
  auto id = f.add_task("interrupted", "sleep 600\n");
  f.add_task("never started", "create x.txt x\n");
  std::string agent = "echo $$ > \"$AGENTQ_TEST_DIR/agent.pid\"; exec " + f.example_worker();
  auto worker = f.start("worker", token, agent, with({"--stop-grace", "1", "--kill-grace", "1"}), "w1");
  REQUIRE(eventually([&] { return fs::exists(f.tmp / "agent.pid"); }));
  int agent_pid = std::stoi(read_text(f.tmp / "agent.pid"));
  worker->signal(SIGTERM);
  CHECK(worker->wait() == 0);
  INFO(worker->log());
  CHECK_FALSE(process_alive(agent_pid));
  auto answer = f.get_task(id);
  CHECK(answer["task"]["state"] == "queued");
  auto e = last_event(answer, "released");
  REQUIRE_FALSE(e.is_null());
  CHECK(e["detail"]["reason"].get<std::string>().rfind("worker stopping", 0) == 0);
  // The second task was never claimed.
  auto list = f.admin.request("GET", "/v1/tasks?state=queued");
  CHECK(list.body["tasks"].size() == 2);
  CHECK(f.get_task(id + 1)["claims"].empty());
}

TEST_CASE("clear failures for an unreachable server and a bad token and an unreachable repository", "[e2e][worker]") {
  e2e_fixture f({"--retry-backoff-s", "600"});
  auto token = f.agent("worker-1", "worker");

  // Nothing listens there.
  std::map<std::string, std::string> env = {{"AGENTQ_SERVER", "http://127.0.0.1:1"},
                                            {"AGENTQ_TOKEN", token},
                                            {"AGENTQ_AGENT_CMD", "true"},
                                            {"AGENTQ_WORKDIR", (f.tmp / "w0").string()}};
  runner_process nowhere(AGENTQ_WORKER_BINARY, {"--max-tasks", "1"}, env, f.tmp / "nowhere.log");
  CHECK(nowhere.wait() == 3);
  CHECK(nowhere.log().find("server_unreachable") != std::string::npos);
  CHECK(nowhere.log().find(token) == std::string::npos);  // the token is never logged

  auto bad = f.start("worker", "not-a-real-token", "true", with({"--max-tasks", "1"}), "bad");
  CHECK(bad->wait() == 4);
  CHECK(bad->log().find("401") != std::string::npos);
  CHECK(bad->log().find("not-a-real-token") == std::string::npos);

  auto usage = f.start("worker", token, "true", {"--slots", "0"}, "usage");
  CHECK(usage->wait() == 2);

  // A repository that is not there: released with the reason, runner goes on.
  auto repo = f.admin.request("POST", "/v1/repos",
                              {{"name", "gone"}, {"url", (f.tmp / "missing.git").string()},
                               {"base_branch", "main"}});
  REQUIRE(repo.status == 201);
  auto task = f.admin.request("POST", "/v1/tasks",
                              {{"title", "unreachable"}, {"body", "x"}, {"repo", "gone"}});
  REQUIRE(task.status == 201);
  auto id = task.body["task"]["id"].get<std::int64_t>();
  auto worker = f.start("worker", token, f.example_worker(), with({"--max-tasks", "1"}), "w1");
  CHECK(worker->wait() == 0);
  auto e = last_event(f.get_task(id), "released");
  REQUIRE_FALSE(e.is_null());
  CHECK(e["detail"]["reason"].get<std::string>().rfind("repository unreachable", 0) == 0);
}

TEST_CASE("the agent's environment holds none of the runner's secrets", "[e2e][worker]") {
  e2e_fixture f({"--retry-backoff-s", "600"});
  auto token = f.agent("worker-1", "worker");
  auto id = f.add_task("dump the environment", "x");
  const std::map<std::string, std::string> secrets = {
      {"AGENTQ_GIT_USERNAME", "secret-user-1"},
      {"AGENTQ_GIT_PASSWORD", "secret-password-2"},
      {"AGENTQ_GIT_SSH_KEY", "/secret/key-3"},
      {"AGENTQ_GIT_SSH_PUBKEY", "/secret/key-4.pub"},
      {"AGENTQ_GIT_SSH_PASSPHRASE", "secret-passphrase-5"},
      {"AGENTQ_ADMIN_TOKEN", "secret-admin-6"},
      // (AGENTQ_TOKEN_FILE with AGENTQ_TOKEN is a usage error now: tests/runner/config_test.cpp;
      // its removal from the child is tests/runner/process_test.cpp)
      {"AGENTQ_ADMIN_TOKEN_FILE", "/secret/token-7"},
      {"AGENTQ_OTHER_TOKEN", "secret-other-8"},
      {"AGENTQ_DATABASE_URL", "postgresql://u:secret-db-9@localhost/x"},
      {"SSH_AUTH_SOCK", "/secret/agent-10.sock"},
  };
  auto worker = f.start("worker", token, "env > \"$AGENTQ_TEST_DIR/agent.env\"; exit 1",
                        with({"--max-tasks", "1"}), "w1", secrets);
  CHECK(worker->wait() == 0);
  INFO(worker->log());
  auto env = read_text(f.tmp / "agent.env");
  // It ran through the runner and got what it should.
  CHECK(env.find("AGENTQ_TASK_ID=" + std::to_string(id)) != std::string::npos);
  CHECK(env.find("AGENTQ_TEST_DIR=") != std::string::npos);
  CHECK(env.find("AGENTQ_SERVER=") != std::string::npos);
  // And none of what the runner holds.
  CHECK(env.find(token) == std::string::npos);
  CHECK(env.find("secret") == std::string::npos);
  for (const auto& [name, value] : secrets) {
    INFO(name);
    CHECK(env.find(name + "=") == std::string::npos);
  }
}

TEST_CASE("a password in a repository URL reaches neither the worker's log nor the release reason",
          "[e2e][worker]") {
  e2e_fixture f({"--retry-backoff-s", "600", "--allow-private-repo-hosts"});
  auto token = f.agent("worker-1", "worker");
  // Nothing listens there: the fetch fails with an error that names the URL.
  auto repo = f.admin.request("POST", "/v1/repos",
                              {{"name", "private"},
                               {"url", "http://bob:hunter2@127.0.0.1:1/private.git"},
                               {"base_branch", "main"}});
  REQUIRE(repo.status == 201);
  auto task = f.admin.request("POST", "/v1/tasks",
                              {{"title", "secret\nlevel=error event=forged"}, {"body", "x"},
                               {"repo", "private"}});
  REQUIRE(task.status == 201);
  auto id = task.body["task"]["id"].get<std::int64_t>();
  auto worker = f.start("worker", token, f.example_worker(), with({"--max-tasks", "1"}), "w1");
  CHECK(worker->wait() == 0);
  INFO(worker->log());
  auto e = last_event(f.get_task(id), "released");
  REQUIRE_FALSE(e.is_null());
  auto reason = e["detail"]["reason"].get<std::string>();
  CHECK(reason.rfind("repository unreachable", 0) == 0);
  CHECK(reason.find("127.0.0.1") != std::string::npos);  // the URL is there, masked
  CHECK(reason.find("hunter2") == std::string::npos);
  CHECK(worker->log().find("127.0.0.1:1") != std::string::npos);
  CHECK(worker->log().find("hunter2") == std::string::npos);
  CHECK(worker->log().find("\nlevel=error event=forged") == std::string::npos);  // no forged line
}

TEST_CASE("two slots work two tasks at once - each in its own checkout", "[e2e][worker]") {
  e2e_fixture f;
  auto token = f.agent("worker-1", "worker");
  auto a = f.add_task("a", "create a.txt a\n");
  auto b = f.add_task("b", "create b.txt b\n");
  // Each agent waits (bounded) until both are running: only a runner that
  // really holds two tasks at once gets both done.
  std::string agent =
      "touch \"$AGENTQ_TEST_DIR/running-$AGENTQ_TASK_ID\"; pwd > \"$AGENTQ_TEST_DIR/dir-$AGENTQ_TASK_ID\"; "
      "i=0; while [ $(ls \"$AGENTQ_TEST_DIR\" | grep -c '^running-') -lt 2 ]; do "
      "i=$((i+1)); [ $i -gt 600 ] && exit 9; sleep 0.1; done; " + f.example_worker();
  auto worker = f.start("worker", token, agent, with({"--slots", "2", "--max-tasks", "2"}), "w1");
  REQUIRE(worker->wait() == 0);
  INFO(worker->log());
  CHECK(f.state(a) == "awaiting_review");
  CHECK(f.state(b) == "awaiting_review");
  CHECK(read_text(f.tmp / ("dir-" + std::to_string(a))) !=
        read_text(f.tmp / ("dir-" + std::to_string(b))));
  auto sa = f.get_task(a)["submissions"][0];
  auto sb = f.get_task(b)["submissions"][0];
  CHECK(show_file(f.origin, sa["commit"], "a.txt") == "a");
  CHECK(show_file(f.origin, sa["commit"], "b.txt").empty());
  CHECK(show_file(f.origin, sb["commit"], "b.txt") == "b");
}

TEST_CASE("a server that stays unreachable until the lease runs out gets the agent killed", "[e2e][worker]") {
  e2e_fixture f;
  auto token = f.agent("worker-1", "worker");
  auto id = f.add_task("orphaned", "works for a long time");
  std::string agent = "echo $$ > \"$AGENTQ_TEST_DIR/agent.pid\"; "
                      "while :; do echo working; sleep 1; done";
  auto worker = f.start("worker", token, agent,
                        {"--lease-s", "5", "--wait-s", "2", "--idle-exit", "3"}, "w1");
  REQUIRE(eventually([&] { return fs::exists(f.tmp / "agent.pid"); }));
  int agent_pid = std::stoi(read_text(f.tmp / "agent.pid"));
  f.server.terminate();
  CHECK(eventually([&] { return !process_alive(agent_pid); }));
  // It then gives up on the server: exit 3 once --idle-exit ran out.
  CHECK(worker->wait() == 3);
  INFO(worker->log());
  CHECK(worker->log().find("could not be reached before the lease ran out") != std::string::npos);
  CHECK(task_refs(f.origin, id).empty());
}

TEST_CASE("idle-exit ends runners without work with exit 0", "[e2e][worker]") {
  e2e_fixture f;
  auto worker = f.start("worker", f.agent("worker-1", "worker"), "true",
                        {"--wait-s", "1", "--idle-exit", "2"}, "w1");
  auto reviewer = f.start("reviewer", f.agent("reviewer-1", "reviewer"), "true",
                          {"--wait-s", "1", "--idle-exit", "2"}, "r1");
  CHECK(worker->wait() == 0);
  CHECK(reviewer->wait() == 0);
  CHECK(worker->log().find("event=idle_exit") != std::string::npos);
  CHECK(reviewer->log().find("event=idle_exit") != std::string::npos);
}

// A final call can wait on the server longer than the lease (a submit's
// branch check queues behind other git work for the same remote, such as
// merges). Heartbeats go on until it is answered, so the lease is live when
// the call lands; before, they stopped first and such a submit was refused
// with lease_expired after the work was pushed.
TEST_CASE("a final call that takes two leases is taken: heartbeats go on until it is answered",
          "[e2e][worker]") {
  using namespace agentq::runner;
  e2e_fixture f;
  auto token = f.agent("worker-1", "worker");
  auto id = f.add_task("slow final call", "the server takes its time");

  runner_config config;
  config.server = f.server.url();
  config.token = token;
  config.lease_s = 5;  // the shortest the server grants
  git_workspace workspace(f.tmp / "work");
  stop_state stop;
  agent_health health(3, std::chrono::seconds(1), std::chrono::seconds(2));
  job_context ctx{config, workspace, stop, health};

  queue_api api(config.server, config.token);
  auto claimed_at = lease_clock::now();
  auto answer = api.claim({}, 0, 5);
  REQUIRE(answer);
  REQUIRE((*answer)["task"]["id"] == id);
  claim_session session(ctx, *answer, claimed_at);
  const auto claim_token = session.token();

  auto result = final_call(
      session, "release",
      [&](queue_api& final_api) {
        std::this_thread::sleep_for(std::chrono::seconds(11));  // two leases and more
        return final_api.release(id, claim_token, "taken after a long wait", true);
      },
      [](const nlohmann::json&) { return job_result::released; });
  CHECK(result == job_result::released);
  auto detail = f.get_task(id);
  CHECK(detail["task"]["state"] == "queued");
  // No other claim came between: the release ended the one claim.
  REQUIRE(detail["claims"].size() == 1);
  CHECK(detail["claims"][0]["outcome"] == "released");
}
