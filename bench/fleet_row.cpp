// The fleet row: one `agentq serve` child and a thousand simulated agents
// (80 % workers, 20 % reviewers, each with its own token and keep-alive
// connection) in this one process, as asynchronous HTTP clients on a single
// io_context thread (Boost.Beast coroutines; Beast stays in this file).
//
// Each agent does what a runner does, without git or an agent command:
// long-poll POST /v1/claims (wait_s 20, the runners' default), heartbeat its
// claim at once and then every third of the lease while it "works" for two
// heartbeat periods, then submit (a worker: the branch ref is written into
// the bare repository, as the http row does) or approve (a reviewer: the
// server merges, a fast-forward to the commit main is at).
//
// Phases: tasks preloaded for a quarter of the workers; an active phase
// (--fleet-active) in which a feeder adds --fleet-rate tasks per second, one
// at a time, noting when each add's commit was acknowledged (the wake: that
// moment -> the worker's claim answer); a drain until every task is done;
// then an idle phase (--fleet-idle) with every agent parked in a long-poll,
// over which the server's CPU (/proc/PID/stat utime + stime) and the row
// database's transactions (pg_stat_database xact_commit + xact_rollback) are
// measured. RSS is VmRSS from /proc/PID/status at the end.
//
// Scaled down: the real lease is 60 s (a heartbeat every 20 s); the row's
// lease is --fleet-lease (15 s: a heartbeat every 5 s), so one short row
// sees several heartbeats per held task, at three times the real rate.
#include "rows.hpp"

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <sys/resource.h>
#include <unistd.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include <bench/bench_sql.hpp>

#include "core/requests.hpp"
#include "serve_support.hpp"

namespace agentq::bench {
namespace {

namespace fs = std::filesystem;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using asio::awaitable;
using asio::use_awaitable;
using clock = std::chrono::steady_clock;
using nlohmann::json;

constexpr int claim_wait_s = 20;  // agentq-worker's --wait-s default

struct answer {
  int status = 0;
  json body;
};

// What the agents share. Only the io thread touches it while the fleet runs,
// except `stopping` and the counters main reads (atomics).
struct fleet_state {
  tcp::endpoint server;
  fs::path repo;
  std::string commit;
  int lease_s = 15;
  std::chrono::milliseconds heartbeat_every{5000};
  std::chrono::milliseconds hold{10000};
  std::atomic<bool> stopping{false};
  std::atomic<long> claims{0}, submits{0}, approvals{0}, errors{0};
  std::vector<double> heartbeats_ms;
  std::map<std::int64_t, clock::time_point> worker_claim_answers;  // by task id
  std::string first_error;

  void error(const std::string& what) {
    if (stopping) return;  // the server going away at the end is no error
    if (errors++ == 0) first_error = what;
  }
};

// One agent: a token and one keep-alive connection, reopened when it broke.
class agent {
 public:
  agent(asio::io_context& io, fleet_state& fleet, std::string token, bool reviewer)
      : m_stream(io), m_fleet(fleet), m_token(std::move(token)), m_reviewer(reviewer) {}

  awaitable<void> run() {
    asio::steady_timer pause(m_stream.get_executor());
    while (!m_fleet.stopping) {
      bool failed = false;
      try {
        co_await work_once();
      } catch (const std::exception& e) {
        m_fleet.error(e.what());
        close();
        failed = true;
      }
      if (failed) {  // no busy loop on a broken setup (no co_await inside a catch)
        pause.expires_after(std::chrono::milliseconds(200));
        co_await pause.async_wait(use_awaitable);
      }
    }
    close();
  }

 private:
  // One claim (long-polled) and, if it came, the work on it.
  awaitable<void> work_once() {
    // (json bodies are built before co_await: g++ 12 miscompiles braced
    // initialiser lists inside a co_await expression)
    json ask = {{"wait_s", claim_wait_s}, {"lease_s", m_fleet.lease_s}};
    auto claimed = co_await call(http::verb::post, "/v1/claims", ask,
                                 std::chrono::seconds(claim_wait_s + 15));
    if (claimed.status == 204) co_return;
    expect(claimed, 200, "claim");
    ++m_fleet.claims;
    const auto id = claimed.body["task"]["id"].get<std::int64_t>();
    const auto token = claimed.body["claim"]["token"].get<std::int64_t>();
    if (!m_reviewer) m_fleet.worker_claim_answers.emplace(id, clock::now());
    const auto task = "/v1/tasks/" + std::to_string(id);

    // The first heartbeat at once (as the runners send it), then every third
    // of the lease while the "agent" works.
    asio::steady_timer timer(m_stream.get_executor());
    const auto done_at = clock::now() + m_fleet.hold;
    for (;;) {
      const auto began = clock::now();
      json beat_body = {{"token", token}};
      auto beat = co_await call(http::verb::post, task + "/heartbeat", beat_body,
                                std::chrono::seconds(30));
      m_fleet.heartbeats_ms.push_back(
          std::chrono::duration<double, std::milli>(clock::now() - began).count());
      expect(beat, 200, "heartbeat");
      if (began + m_fleet.heartbeat_every >= done_at) break;
      timer.expires_at(began + m_fleet.heartbeat_every);
      co_await timer.async_wait(use_awaitable);
    }
    timer.expires_at(done_at);
    co_await timer.async_wait(use_awaitable);

    if (m_reviewer) {
      json verdict = {{"token", token}, {"verdict", "approve"}, {"reasons", "ok"}};
      auto reviewed = co_await call(http::verb::post, task + "/review", verdict,
                                    std::chrono::seconds(60));
      expect(reviewed, 200, "approve");
      ++m_fleet.approvals;
    } else {
      const auto branch = "agentq/" + std::to_string(id) + "/" + std::to_string(token);
      write_branch(m_fleet.repo, branch, m_fleet.commit);
      json submission = {{"token", token},
                         {"branch", branch},
                         {"commit", m_fleet.commit},
                         {"summary", bench_summary}};
      auto submitted = co_await call(http::verb::post, task + "/submit", submission,
                                     std::chrono::seconds(60));
      expect(submitted, 200, "submit");
      ++m_fleet.submits;
    }
  }

  static void expect(const answer& got, int status, const char* what) {
    if (got.status != status)
      throw std::runtime_error(std::string(what) + " answered " + std::to_string(got.status) +
                               ": " + got.body.dump());
  }

  // One request on the kept-alive connection, within `timeout`. A connection
  // the server closed since the last answer is reopened and the request sent
  // once more (every call here is safe to repeat: docs/api.md, "Retries").
  awaitable<answer> call(http::verb verb, const std::string& target, const json& body,
                         std::chrono::seconds timeout) {
    for (int attempt = 0;; ++attempt) {
      const bool reused = m_open;
      try {
        if (!m_open) {
          m_stream.expires_after(std::chrono::seconds(10));
          co_await m_stream.async_connect(m_fleet.server, use_awaitable);
          m_open = true;
        }
        http::request<http::string_body> request{verb, target, 11};
        request.set(http::field::host, "127.0.0.1");
        request.set(http::field::authorization, "Bearer " + m_token);
        request.set(http::field::content_type, "application/json");
        request.keep_alive(true);
        request.body() = body.dump();
        request.prepare_payload();
        m_stream.expires_after(timeout);
        co_await http::async_write(m_stream, request, use_awaitable);
        http::response<http::string_body> response;
        co_await http::async_read(m_stream, m_buffer, response, use_awaitable);
        m_stream.expires_never();
        if (!response.keep_alive()) close();
        answer got;
        got.status = static_cast<int>(response.result_int());
        if (!response.body().empty()) got.body = json::parse(response.body(), nullptr, false);
        co_return got;
      } catch (const boost::system::system_error& e) {
        close();
        if (!reused || attempt > 0 || m_fleet.stopping)
          throw std::runtime_error(target + ": " + e.code().message());
      }
    }
  }

  void close() {
    beast::error_code ignored;
    m_stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    m_stream.close();
    m_buffer.clear();
    m_open = false;
  }

  beast::tcp_stream m_stream;
  beast::flat_buffer m_buffer;
  fleet_state& m_fleet;
  std::string m_token;
  bool m_reviewer;
  bool m_open = false;
};

tcp::endpoint endpoint_of(const std::string& base_url) {  // http://127.0.0.1:PORT
  auto host_port = base_url.substr(base_url.find("//") + 2);
  auto colon = host_port.rfind(':');
  return {asio::ip::make_address(host_port.substr(0, colon)),
          static_cast<unsigned short>(std::stoi(host_port.substr(colon + 1)))};
}

// Each agent is a socket here and in the server: the soft limit of open
// files goes up to the hard one (the server raises its own the same way),
// and a hard limit too low for the fleet is said before anything starts.
void allow_open_files(int agents) {
  rlimit files{};
  if (getrlimit(RLIMIT_NOFILE, &files) != 0) return;
  const rlim_t needed = static_cast<rlim_t>(agents) + 256;
  if (files.rlim_max != RLIM_INFINITY && files.rlim_max < needed)
    throw std::runtime_error("the fleet row needs " + std::to_string(needed) +
                             " open files, the hard limit is " + std::to_string(files.rlim_max) +
                             ": raise it (ulimit -Hn) or lower --fleet-agents");
  if (files.rlim_cur != RLIM_INFINITY && files.rlim_cur < needed) {
    files.rlim_cur = files.rlim_max;
    setrlimit(RLIMIT_NOFILE, &files);
  }
}

// The tokens of `count` agents of `role`, added through the store (as
// `agentq agent add` adds them), on four connections at once.
std::vector<std::string> add_agents(const bench_database& db, const std::string& prefix,
                                    agent_role role, int count) {
  std::vector<std::string> tokens(static_cast<std::size_t>(count));
  std::vector<std::thread> adders;
  std::mutex failure_mutex;
  std::string failure;
  const int threads = 4;
  for (int t = 0; t < threads; ++t) {
    adders.emplace_back([&, t] {
      try {
        store setup(db.url());
        for (int i = t; i < count; i += threads) {
          auto added = setup.add_agent(new_agent{prefix + std::to_string(i), role});
          if (!added) throw std::runtime_error("add_agent: " + added.error().message);
          tokens[static_cast<std::size_t>(i)] = (*added)["token"].get<std::string>();
        }
      } catch (const std::exception& e) {
        std::lock_guard lock(failure_mutex);
        failure = e.what();
      }
    });
  }
  for (auto& adder : adders) adder.join();
  if (!failure.empty()) throw std::runtime_error(failure);
  return tokens;
}

// utime + stime of a process, in seconds.
double cpu_seconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto after_name = text.rfind(')');  // the name may hold spaces
  if (after_name == std::string::npos) throw std::runtime_error("cannot read /proc/PID/stat");
  std::istringstream fields(text.substr(after_name + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && fields >> field; ++i) {  // field 3 is the state
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

double rss_mb(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;  // kB
  throw std::runtime_error("no VmRSS in /proc/PID/status");
}

// Committed + rolled back transactions of the row's database so far (read on
// the maintenance database, so the reading adds none to it).
double database_transactions(const bench_template& tpl, const std::string& dbname) {
  pqxx::connection conn(url_for_database(tpl.server_url(), "postgres"));
  pqxx::read_transaction tx(conn);
  return tx.exec_params(std::string(sql::database_transactions), dbname)[0][0].as<double>();
}

std::string dbname_of(const bench_database& db) {
  pqxx::connection conn(db.url());
  return conn.dbname();
}

std::string fixed(double value, int decimals = 1) {
  char text[32];
  std::snprintf(text, sizeof text, "%.*f", decimals, value);
  return text;
}

}  // namespace

row run_fleet_row(const bench_template& tpl, const options& opts, const std::string& work_dir) {
  const int agents = opts.fleet_agents;
  const int reviewers = std::max(1, agents / 5);
  const int workers = std::max(1, agents - reviewers);
  allow_open_files(workers + reviewers);

  auto dir = fs::path(work_dir) / "fleet";
  fs::create_directories(dir);
  fleet_state fleet;
  fleet.repo = dir / "repo.git";
  fleet.commit = make_repository(fleet.repo, dir);
  fleet.lease_s = opts.fleet_lease_s;
  fleet.heartbeat_every = std::chrono::milliseconds(opts.fleet_lease_s * 1000 / 3);
  fleet.hold = 2 * fleet.heartbeat_every;

  bench_database db(tpl, fleet.repo.string());
  const auto dbname = dbname_of(db);
  auto worker_tokens = add_agents(db, "fleet-worker-", agent_role::worker, workers);
  auto reviewer_tokens = add_agents(db, "fleet-reviewer-", agent_role::reviewer, reviewers);
  const int preloaded = std::max(1, workers / 4);
  db.load_queued(preloaded);

  auto server = start_server(opts, db, dir, {"--lease-s", std::to_string(opts.fleet_lease_s)});
  fleet.server = endpoint_of(wait_for_listen(*server, dir));
  const pid_t server_pid = server->pid();

  asio::io_context io;
  std::vector<std::unique_ptr<agent>> fleet_agents;
  for (const auto& token : worker_tokens)
    fleet_agents.push_back(std::make_unique<agent>(io, fleet, token, false));
  for (const auto& token : reviewer_tokens)
    fleet_agents.push_back(std::make_unique<agent>(io, fleet, token, true));
  for (auto& a : fleet_agents) asio::co_spawn(io, a->run(), asio::detached);
  std::thread io_thread([&io] { io.run(); });

  auto stop_fleet = [&] {
    fleet.stopping = true;
    server->stop();  // parked long-polls are answered 204; the rest fail and end
    io.stop();
    if (io_thread.joinable()) io_thread.join();
  };

  row r = make_row("fleet", std::to_string(workers) + " workers + " +
                                std::to_string(reviewers) + " reviewers, 1 server",
                   agents);
  try {
    // Active: one task at a time, --fleet-rate per second, each add's commit
    // acknowledgement noted for the wake latency.
    std::map<std::int64_t, clock::time_point> added_at;
    store adder(db.url());
    auto task = parse_new_task({{"title", "fleet"}, {"body", "a fleet task"}, {"repo", db.repo_name()}});
    if (!task) throw std::runtime_error("parse_new_task: " + task.error().message);
    const auto began = clock::now();
    const auto active_end = began + std::chrono::seconds(opts.fleet_active_s);
    const auto every = std::chrono::microseconds(1000000 / std::max(1, opts.fleet_rate));
    for (auto next = began; next < active_end; next += every) {
      std::this_thread::sleep_until(next);
      auto added = adder.add_task(*task, "bench");
      if (!added) throw std::runtime_error("add_task: " + added.error().message);
      added_at.emplace(added->id, clock::now());
    }
    const long total = preloaded + static_cast<long>(added_at.size());

    // Drain: every task through review and merge, before the idle phase.
    const auto drain_deadline = clock::now() + 2 * fleet.hold + std::chrono::seconds(60);
    std::int64_t done = 0;
    while ((done = db.count_in_state("done")) < total && clock::now() < drain_deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    const double busy_s = std::chrono::duration<double>(clock::now() - began).count();

    // Idle: every agent parked in its long-poll. A settling pause first, so
    // the last merges' statements and their statistics fall before the
    // window: PostgreSQL 15 backends that went idle flush their counters to
    // pg_stat_database up to 10 s later (PGSTAT_IDLE_INTERVAL), so a shorter
    // pause counted the drain's last transactions as idle ones.
    std::this_thread::sleep_for(std::chrono::seconds(11));
    const auto idle_began = clock::now();
    const double cpu_before = cpu_seconds(server_pid);
    const double xacts_before = database_transactions(tpl, dbname);
    std::this_thread::sleep_for(std::chrono::seconds(opts.fleet_idle_s));
    const double cpu_after = cpu_seconds(server_pid);
    const double xacts_after = database_transactions(tpl, dbname);
    const double idle_s = std::chrono::duration<double>(clock::now() - idle_began).count();
    const double rss = rss_mb(server_pid);
    stop_fleet();

    std::vector<double> wakes;
    for (const auto& [id, at] : added_at) {
      auto answered = fleet.worker_claim_answers.find(id);
      if (answered == fleet.worker_claim_answers.end()) continue;
      wakes.push_back(
          std::max(0.0, std::chrono::duration<double, std::milli>(answered->second - at).count()));
    }

    r.tasks = static_cast<long>(done);
    r.seconds = busy_s;
    r.tasks_per_s = static_cast<double>(done) / busy_s;
    r.p50_ms = percentile(fleet.heartbeats_ms, 50);
    r.p99_ms = percentile(fleet.heartbeats_ms, 99);
    r.extra["heartbeats"] = static_cast<double>(fleet.heartbeats_ms.size());
    r.extra["heartbeat_max_ms"] = percentile(fleet.heartbeats_ms, 100);
    r.extra["wake_p50_ms"] = percentile(wakes, 50);
    r.extra["wake_p99_ms"] = percentile(wakes, 99);
    r.extra["rss_mb"] = rss;
    r.extra["cpu_pct_idle"] = (cpu_after - cpu_before) / idle_s * 100.0;
    r.extra["stmts_per_s_idle"] = (xacts_after - xacts_before) / idle_s;
    r.extra["idle_s"] = idle_s;
    r.extra["lease_s"] = opts.fleet_lease_s;
    r.versus = "targets";
    r.note = "p50/p99: heartbeats (" + std::to_string(fleet.heartbeats_ms.size()) +
             ", p99 target <= 20 ms); wake p99 " + fixed(r.extra["wake_p99_ms"]) + " ms (" +
             std::to_string(wakes.size()) + " wakes); rss " + fixed(rss) +
             " MB (<= 150); idle cpu " + fixed(r.extra["cpu_pct_idle"], 2) +
             " % (<= 2); idle xacts " + fixed(r.extra["stmts_per_s_idle"]) +
             "/s (<= 5); lease " + std::to_string(opts.fleet_lease_s) + " s";
    if (done != total)
      r.note += "; MISMATCH: " + std::to_string(done) + " of " + std::to_string(total) +
                " tasks done after the drain";
    if (fleet.errors)
      r.note += "; " + std::to_string(fleet.errors.load()) + " errors, first: " + fleet.first_error;
  } catch (...) {
    stop_fleet();
    throw;
  }
  return r;
}

}  // namespace agentq::bench
