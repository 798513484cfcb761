// The HTTP rows: claim + submit through agentq_client (the runners' client)
// against a real `agentq serve` child, one keep-alive connection per client.
// The server checks each submitted commit is the tip of the claim's branch
// in the repository, so the bench plays the worker's push too: between claim
// and submit it writes the branch's ref into a local bare repository (a loose
// ref file, microseconds); the server's fetch of it is part of what is measured.
#include "rows.hpp"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "child_process.hpp"
#include "serve_support.hpp"
#include "http_client.hpp"
#include "load.hpp"
#include "core/requests.hpp"

namespace agentq::bench {

namespace fs = std::filesystem;

row run_http_row(const bench_template& tpl, const options& opts, int clients,
                 const std::string& work_dir) {
  auto dir = fs::path(work_dir) / ("http-" + std::to_string(clients));
  fs::create_directories(dir);
  auto repo = dir / "repo.git";
  auto commit = make_repository(repo, dir);

  bench_database db(tpl, repo.string());
  db.load_queued(opts.tasks);
  db.vacuum_analyze();

  auto server = start_server(opts, db, dir);
  auto base_url = wait_for_listen(*server, dir);

  auto load = run_clients(clients, opts.duration_s, [&](int) -> cycle_fn {
    auto client = std::make_shared<http_client>(base_url, db.worker_token());
    return [client, repo, commit] {
      auto claimed = client->request("POST", "/v1/claims", {{"wait_s", 0}});
      if (claimed.status == 204) return 0;
      if (claimed.status != 200)
        throw std::runtime_error("claim answered " + std::to_string(claimed.status) + ": " +
                                 claimed.raw_body);
      auto id = claimed.body["task"]["id"].get<std::int64_t>();
      auto token = claimed.body["claim"]["token"].get<std::int64_t>();
      auto branch = "agentq/" + std::to_string(id) + "/" + std::to_string(token);
      write_branch(repo, branch, commit);
      auto submitted = client->request(
          "POST", "/v1/tasks/" + std::to_string(id) + "/submit",
          {{"token", token}, {"branch", branch}, {"commit", commit}, {"summary", bench_summary}});
      if (submitted.status != 200)
        throw std::runtime_error("submit answered " + std::to_string(submitted.status) + ": " +
                                 submitted.raw_body);
      return 1;
    };
  });
  server->stop();

  row r = make_row("http", "agentq serve + agentq_client", clients);
  r.versus = "floor";
  r.note = "submit includes the server's git check";
  return finish_row(r, load, db.count_in_state("awaiting_review"));
}

row run_wake_row(const bench_template& tpl, const options& opts, const std::string& work_dir) {
  using clock = std::chrono::steady_clock;
  auto dir = fs::path(work_dir) / "http-wake";
  fs::create_directories(dir);
  bench_database db(tpl);  // an empty queue: every claim parks in the long-poll
  auto server = start_server(opts, db, dir);
  auto base_url = wait_for_listen(*server, dir);

  // The waiter long-polls again as soon as an answer arrives; the adder adds
  // one task at a time once the waiter has had time to park, and notes when
  // its commit was acknowledged. Wake latency: that moment -> the answer.
  std::mutex mutex;
  std::condition_variable changed;
  std::optional<clock::time_point> answered;
  std::atomic<bool> stop{false};
  std::string waiter_error;
  http_client waiter_client(base_url, db.worker_token());
  std::thread waiter([&] {
    try {
      while (!stop) {
        auto claimed = waiter_client.request("POST", "/v1/claims", {{"wait_s", 2}},
                                             std::chrono::seconds(10));
        if (claimed.status == 204) continue;
        if (claimed.status != 200)
          throw std::runtime_error("claim answered " + std::to_string(claimed.status));
        std::lock_guard lock(mutex);
        answered = clock::now();
        changed.notify_all();
      }
    } catch (const std::exception& e) {
      std::lock_guard lock(mutex);
      waiter_error = e.what();
      changed.notify_all();
    }
  });

  std::vector<double> latencies;
  long early = 0;
  auto began = clock::now();
  std::exception_ptr adder_error;
  try {
    store adder(db.url());
    auto task = parse_new_task({{"title", "wake"}, {"body", "a long-poll wake"}, {"repo", db.repo_name()}});
    if (!task) throw std::runtime_error("parse_new_task: " + task.error().message);
    auto deadline = began + std::chrono::seconds(opts.duration_s);
    while (clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));  // the waiter parks
      {
        std::lock_guard lock(mutex);
        answered.reset();
        if (!waiter_error.empty()) break;
      }
      if (!adder.add_task(*task, "bench")) throw std::runtime_error("add_task refused");
      auto committed = clock::now();
      std::unique_lock lock(mutex);
      if (!changed.wait_for(lock, std::chrono::seconds(5),
                            [&] { return answered.has_value() || !waiter_error.empty(); }))
        throw std::runtime_error("a long-poll was not woken within 5 s of a new task");
      if (!waiter_error.empty()) break;
      auto ms = std::chrono::duration<double, std::milli>(*answered - committed).count();
      // The notification goes out at commit, so the answer can beat the
      // adder's own commit acknowledgement: that is a wake of 0.
      if (ms < 0) ++early;
      latencies.push_back(std::max(ms, 0.0));
    }
  } catch (...) {
    adder_error = std::current_exception();  // rethrown once the waiter is joined
  }
  stop = true;
  waiter.join();  // its last long-poll ends within wait_s
  server->stop();
  if (adder_error) std::rethrow_exception(adder_error);
  if (!waiter_error.empty()) throw std::runtime_error("long-poll waiter: " + waiter_error);

  row r = make_row("wake", "long-poll wake (claim wait_s)", 1);
  r.tasks = static_cast<long>(latencies.size());
  r.seconds = std::chrono::duration<double>(clock::now() - began).count();
  r.p50_ms = percentile(latencies, 50);
  r.p99_ms = percentile(latencies, 99);
  r.note = "latency: add_task commit acked -> claim answer; " + std::to_string(latencies.size()) +
           " wakes (" + std::to_string(early) + " answered before the ack)";
  return r;
}

}  // namespace agentq::bench
