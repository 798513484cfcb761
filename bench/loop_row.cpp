// The loop row: the whole loop with the real programs. A generated bare
// repository of --loop-files small files, one `agentq serve`, four
// agentq-worker and two agentq-reviewer child processes with instant agents
// (the worker's command writes one file, the reviewer's approves), and
// --loop-tasks tasks. The stages come from the event history, read through
// GET /v1/events: claimed -> submitted (the worker's fetch, work tree,
// commit, push and submit), submitted -> review claimed, approved -> merged.
//
// Beside it, the git floor: the same fetch into a bare mirror, work tree of
// the base branch, one-file commit and push of a branch, done by `git`
// alone in a loop on the same repository (after the runners are done).
#include "rows.hpp"

#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <stdexcept>
#include <thread>

#include "core/requests.hpp"
#include "http_client.hpp"
#include "serve_support.hpp"

namespace agentq::bench {
namespace {

namespace fs = std::filesystem;
using clock = std::chrono::steady_clock;

constexpr int loop_workers = 4;
constexpr int loop_reviewers = 2;
constexpr int floor_rounds_max = 3;  // a 10,000-file work tree is seconds on a slow disk

// A bare repository whose main holds `files` small files in folders of 100.
void make_large_repository(const fs::path& repo, const fs::path& dir, int files) {
  auto seed = dir / "seed";
  for (int i = 0; i < files; ++i) {
    auto file = seed / "src" / ("d" + std::to_string(i / 100)) / ("f" + std::to_string(i) + ".txt");
    if (i % 100 == 0) fs::create_directories(file.parent_path());
    std::ofstream(file) << "file " << i << "\n";
  }
  run_git({"init", "-q", "-b", "main", seed.string()}, dir);
  run_git({"-C", seed.string(), "add", "-A"}, dir);
  // No automatic gc: 10,000 loose objects start a detached `git gc --auto`
  // that would still be deleting them while the seed is removed below.
  run_git({"-C", seed.string(), "-c", "gc.auto=0", "commit", "-q", "-m", "generated"}, dir);
  run_git({"clone", "-q", "--bare", seed.string(), repo.string()}, dir);
  // Nor after the git floor's pushes (receive-pack runs gc --auto).
  run_git({"--git-dir=" + repo.string(), "config", "gc.auto", "0"}, dir);
  fs::remove_all(seed);
}

// RFC 3339 UTC with microseconds (2026-01-02T03:04:05.123456Z) -> seconds.
double seconds_of(const std::string& at) {
  std::tm tm{};
  int micros = 0;
  char fraction[16] = "";
  if (std::sscanf(at.c_str(), "%d-%d-%dT%d:%d:%d%15[.0-9]", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec, fraction) < 6)
    throw std::runtime_error("an event time that does not parse: " + at);
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  if (fraction[0] == '.') {
    std::string digits = std::string(fraction + 1).substr(0, 6);
    digits.resize(6, '0');
    micros = std::stoi(digits);
  }
  return static_cast<double>(timegm(&tm)) + micros / 1e6;
}

struct stages {
  std::vector<double> push_ms, review_wait_ms, merge_ms;
  double first_claim = 0, last_merge = 0;
  long merged = 0;
};

// The event history, oldest first, through the API, into stage samples.
stages read_stages(http_client& client) {
  struct open_task {
    double worker_claim = -1, submitted = -1, approved = -1;
  };
  std::map<std::int64_t, open_task> tasks;
  stages out;
  std::int64_t after = 0;
  for (;;) {
    auto page = client.request("GET", "/v1/events?limit=1000&after=" + std::to_string(after));
    if (page.status != 200)
      throw std::runtime_error("GET /v1/events answered " + std::to_string(page.status));
    const auto& events = page.body["events"];
    if (events.empty()) break;
    for (const auto& event : events) {
      after = event["id"].get<std::int64_t>();
      auto& task = tasks[event["task_id"].get<std::int64_t>()];
      const auto kind = event["kind"].get<std::string>();
      const auto to_state = event["to_state"].is_string() ? event["to_state"].get<std::string>() : "";
      const double at = seconds_of(event["at"].get<std::string>());
      if (kind == "claimed" && to_state == "working") {
        task.worker_claim = at;
        if (out.first_claim == 0 || at < out.first_claim) out.first_claim = at;
      } else if (kind == "submitted" && task.worker_claim >= 0) {
        out.push_ms.push_back((at - task.worker_claim) * 1000);
        task.submitted = at;
        task.worker_claim = -1;
      } else if (kind == "claimed" && to_state == "reviewing" && task.submitted >= 0) {
        out.review_wait_ms.push_back((at - task.submitted) * 1000);
        task.submitted = -1;
      } else if (kind == "approved") {
        task.approved = at;
      } else if (kind == "merged" && task.approved >= 0) {
        out.merge_ms.push_back((at - task.approved) * 1000);
        task.approved = -1;
        out.last_merge = std::max(out.last_merge, at);
        ++out.merged;
      }
    }
  }
  return out;
}

// The git floor: what a worker does with git for one task, by `git` alone.
// Answers the median milliseconds per task (the mirror's first clone is
// left out, as the runners keep their mirror between tasks).
double git_floor_ms(const fs::path& repo, const fs::path& dir, int rounds) {
  auto floor_dir = dir / "floor";
  fs::create_directories(floor_dir);
  auto mirror = floor_dir / "mirror.git";
  run_git({"clone", "-q", "--bare", repo.string(), mirror.string()}, floor_dir);
  const auto git_dir = "--git-dir=" + mirror.string();
  std::vector<double> samples;
  for (int i = 0; i < rounds; ++i) {
    const auto branch = "floor/" + std::to_string(i);
    const auto tree = floor_dir / ("tree-" + std::to_string(i));
    const auto began = clock::now();
    run_git({git_dir, "fetch", "-q", "origin", "+refs/heads/main:refs/heads/main"}, floor_dir);
    run_git({git_dir, "worktree", "add", "-q", "-b", branch, tree.string(), "main"}, floor_dir);
    std::ofstream(tree / ("floor-" + std::to_string(i) + ".txt")) << "floor " << i << "\n";
    run_git({"-C", tree.string(), "add", "-A"}, floor_dir);
    run_git({"-C", tree.string(), "commit", "-q", "-m", "floor"}, floor_dir);
    run_git({"-C", tree.string(), "push", "-q", "origin", branch + ":refs/heads/" + branch},
            floor_dir);
    samples.push_back(std::chrono::duration<double, std::milli>(clock::now() - began).count());
    run_git({git_dir, "worktree", "remove", "--force", tree.string()}, floor_dir);  // untimed
  }
  return percentile(samples, 50);
}

std::string fixed(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f", value);
  return text;
}

}  // namespace

row run_loop_row(const bench_template& tpl, const options& opts, const std::string& work_dir) {
  auto dir = fs::path(work_dir) / "loop";
  fs::create_directories(dir);
  auto repo = dir / "repo.git";
  make_large_repository(repo, dir, opts.loop_files);

  bench_database db(tpl, repo.string());
  std::vector<std::string> worker_tokens, reviewer_tokens;
  {
    store setup(db.url());
    auto add = [&](const std::string& name, agent_role role) {
      auto added = setup.add_agent(new_agent{name, role});
      if (!added) throw std::runtime_error("add_agent: " + added.error().message);
      return (*added)["token"].get<std::string>();
    };
    for (int i = 0; i < loop_workers; ++i)
      worker_tokens.push_back(add("loop-worker-" + std::to_string(i), agent_role::worker));
    for (int i = 0; i < loop_reviewers; ++i)
      reviewer_tokens.push_back(add("loop-reviewer-" + std::to_string(i), agent_role::reviewer));
    auto task = parse_new_task({{"title", "loop"}, {"body", "write one file"}, {"repo", db.repo_name()}});
    if (!task) throw std::runtime_error("parse_new_task: " + task.error().message);
    for (int i = 0; i < opts.loop_tasks; ++i)
      if (!setup.add_task(*task, "bench")) throw std::runtime_error("add_task refused");
  }

  // The server reads local repositories only under AGENTQ_REPO_ROOTS.
  auto server = start_server(opts, db, dir, {}, {{"AGENTQ_REPO_ROOTS", dir.string()}});
  const auto base_url = wait_for_listen(*server, dir);

  std::vector<std::unique_ptr<child_process>> runners;
  std::vector<std::string> runner_names;
  auto start_runner = [&](const std::string& program, const std::string& name,
                          const std::string& token, const std::string& command_var,
                          const std::string& command) {
    runner_names.push_back(name);
    runners.push_back(std::make_unique<child_process>(
        std::vector<std::string>{program, "--lease-s", "60"}, (dir / (name + ".out")).string(),
        (dir / (name + ".err")).string(),
        std::map<std::string, std::string>{{"AGENTQ_SERVER", base_url},
                                           {"AGENTQ_TOKEN", token},
                                           {"AGENTQ_WORKDIR", (dir / "work" / name).string()},
                                           {command_var, command}}));
  };
  // Instant agents: the worker's writes one file named after its task.
  for (int i = 0; i < loop_workers; ++i)
    start_runner(opts.worker, "worker-" + std::to_string(i), worker_tokens[static_cast<std::size_t>(i)],
                 "AGENTQ_AGENT_CMD",
                 "echo \"task $AGENTQ_TASK_ID\" > \"loop-$AGENTQ_TASK_ID.txt\"");
  for (int i = 0; i < loop_reviewers; ++i)
    start_runner(opts.reviewer, "reviewer-" + std::to_string(i),
                 reviewer_tokens[static_cast<std::size_t>(i)], "AGENTQ_REVIEW_CMD", "true");

  // Until every task is done, or failed, or --loop-deadline (a slow disk or
  // a broken loop must not hang the bench).
  const auto deadline = clock::now() + std::chrono::seconds(opts.loop_deadline_s);
  std::int64_t done = 0, stuck = 0;
  std::string runner_exit;
  while (clock::now() < deadline) {
    done = db.count_in_state("done");
    stuck = db.count_in_state("failed") + db.count_in_state("needs_human");
    if (done + stuck >= opts.loop_tasks) break;
    for (std::size_t i = 0; i < runners.size() && runner_exit.empty(); ++i)
      if (!runners[i]->running())
        runner_exit = runner_names[i] + " exited: " +
                      read_file((dir / (runner_names[i] + ".err")).string());
    if (!runner_exit.empty()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  for (auto& runner : runners) runner->stop();

  // A merge the server was finishing when the runners stopped may land in
  // between: read until the done count and the merged events agree (10 s).
  stages seen;
  {
    http_client reader(base_url, db.worker_token());
    const auto settle_deadline = clock::now() + std::chrono::seconds(10);
    for (;;) {
      done = db.count_in_state("done");
      seen = read_stages(reader);
      if (seen.merged == done || clock::now() > settle_deadline) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
  }
  server->stop();

  const int rounds = std::min(opts.loop_tasks, floor_rounds_max);
  const double floor_ms = git_floor_ms(repo, dir, rounds);

  row r = make_row("loop", std::to_string(loop_workers) + " agentq-worker + " +
                               std::to_string(loop_reviewers) + " agentq-reviewer",
                   loop_workers + loop_reviewers);
  r.tasks = static_cast<long>(done);
  r.seconds = seen.last_merge > seen.first_claim ? seen.last_merge - seen.first_claim : 0;
  r.tasks_per_s = r.seconds > 0 ? static_cast<double>(seen.merged) / r.seconds : 0;
  r.p50_ms = percentile(seen.push_ms, 50);  // the worker's stage: what the floor compares
  r.p99_ms = percentile(seen.push_ms, 99);
  r.extra["push_p50_ms"] = r.p50_ms;
  r.extra["push_p99_ms"] = r.p99_ms;
  r.extra["review_wait_p50_ms"] = percentile(seen.review_wait_ms, 50);
  r.extra["review_wait_p99_ms"] = percentile(seen.review_wait_ms, 99);
  r.extra["merge_p50_ms"] = percentile(seen.merge_ms, 50);
  r.extra["merge_p99_ms"] = percentile(seen.merge_ms, 99);
  r.extra["git_floor_ms_per_task"] = floor_ms;
  r.extra["overhead_ratio"] = floor_ms > 0 ? r.p50_ms / floor_ms : 0;
  r.extra["files"] = opts.loop_files;
  r.versus = "git floor";
  r.note = "p50/p99: claimed->submitted; review wait p50 " + fixed(r.extra["review_wait_p50_ms"]) +
           " ms; merge p50/p99 " + fixed(r.extra["merge_p50_ms"]) + "/" +
           fixed(r.extra["merge_p99_ms"]) + " ms (p50 target <= 100); git floor " +
           fixed(floor_ms) + " ms/task, overhead " + fixed(r.extra["overhead_ratio"]) +
           "x (target <= 1.5); " + std::to_string(opts.loop_files) + " files";
  if (done + stuck < opts.loop_tasks)
    r.note += "; stopped at --loop-deadline " + std::to_string(opts.loop_deadline_s) + " s: " +
              std::to_string(done) + " of " + std::to_string(opts.loop_tasks) + " tasks done";
  if (seen.merged != done)
    r.note += "; MISMATCH: " + std::to_string(done) + " tasks done, " +
              std::to_string(seen.merged) + " merged events";
  if (stuck) r.note += "; " + std::to_string(stuck) + " tasks failed or need a human (an error)";
  if (!runner_exit.empty()) r.note += "; error: " + runner_exit;
  return r;
}

}  // namespace agentq::bench
