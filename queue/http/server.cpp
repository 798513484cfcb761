#include "http/server.hpp"

#include <csignal>
#include <cstdlib>
#include <iostream>
#include <pthread.h>
#include <sys/resource.h>
#include <thread>

#include <spdlog/spdlog.h>

#include "core/duration.hpp"
#include "http/auth_cache.hpp"
#include "http/claim_waiters.hpp"
#include "http/empty_claims.hpp"
#include "http/db_pool.hpp"
#include "http/event_waiters.hpp"
#include "http/handler.hpp"
#include "http/listener.hpp"
#include "http/metrics.hpp"
#include "services/periodic_service.hpp"
#include "services/reaper.hpp"
#include "services/retention.hpp"
#include "store/claimable_listener.hpp"

#include "git/git_executor.hpp"
#include "git/repo_gateway.hpp"
#include "services/merger.hpp"

namespace agentq {
namespace {

using clock = std::chrono::steady_clock;

std::pair<std::string, std::uint16_t> split_listen(const std::string& listen) {
  auto colon = listen.rfind(':');
  if (colon == std::string::npos || colon + 1 == listen.size())
    throw std::invalid_argument("listen address must be host:port (got '" + listen + "')");
  std::string host = listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  const std::string port_text = listen.substr(colon + 1);
  int port = -1;
  try {
    std::size_t used = 0;
    port = std::stoi(port_text, &used);
    if (used != port_text.size()) port = -1;
  } catch (const std::exception&) {
  }
  if (port < 0 || port > 65535)
    throw std::invalid_argument("listen port must be 0..65535 (got '" + port_text + "')");
  return {host, static_cast<std::uint16_t>(port)};
}

std::string path_of(const std::string& route) { return route.substr(route.find(' ') + 1); }

// A heartbeat is one short guarded update whose lateness can cost a lease:
// it takes the pool's short lane, ahead of claims, submits and drains.
db_pool::lane lane_of(const std::string& route) {
  return route == "POST /v1/tasks/{id}/heartbeat" ? db_pool::lane::short_call
                                                  : db_pool::lane::normal;
}

}  // namespace

int run_server(const server_config& config) {
  // Signals go to one thread that sigwait()s; every other thread blocks them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto [host, port] = split_listen(config.listen);

  // A database host that does not answer must not hold a request for the
  // kernel's TCP timeout: libpq reads this default (the URL may override it).
  setenv("PGCONNECT_TIMEOUT", "5", 0);

  // Each waiting long-poll is an open socket: allow as many as the hard
  // limit does, not the soft default (often 1024).
  rlimit files{};
  if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    setrlimit(RLIMIT_NOFILE, &files);
  }

  server_metrics metrics;
  // One more connection serves only the short lane (heartbeats): see
  // http/db_pool.hpp.
  db_pool pool(config.database_url, std::max(1, config.db_pool), std::chrono::milliseconds(500),
               1);

  merger_config merge_config;
  merge_config.cache_dir = config.git_cache;
  merge_config.git_timeout = std::chrono::seconds(std::max(1, config.git_timeout_s));
  merge_config.delete_task_branches = !config.keep_task_branches;
  merger landing(config.database_url, merge_config);
  // Request-path git (submit check, diff stats) runs here, never on a
  // database thread; jobs get deadlines of now + git_timeout_s.
  git::git_executor git_jobs({config.git_threads, config.git_per_remote});

  claim_waiters* waiters_ptr = nullptr;
  empty_claims empty_memory;  // claims that came back empty since the last change
  handler_services services;
  services.empty_claims_memory = &empty_memory;
  auth_cache_config tokens_config;
  tokens_config.expiry = std::chrono::seconds(std::max(0, config.auth_cache_s));
  auth_cache tokens(tokens_config);  // tokens verified moments ago
  services.auth = &tokens;
  services.metrics = &metrics;
  event_waiters* event_polls_ptr = nullptr;
  services.open_long_polls = [&] {
    return (waiters_ptr ? waiters_ptr->size() : 0) +
           (event_polls_ptr ? event_polls_ptr->size() : 0);
  };
  services.gateway = &landing.gateway();  // one mirror cache per process
  services.merger = &landing;
  handler_config handler_conf;
  handler_conf.admin_token = config.admin_token;
  handler_conf.default_lease_s = config.lease_s;
  handler_conf.first_lease_s = config.first_lease_s;
  handler_conf.backoff.base_s = config.retry_backoff_s;
  handler_conf.repo_urls = config.repo_urls;
  request_handler handler(handler_conf, services);

  claim_waiters waiters(handler, pool, {}, &empty_memory);
  waiters_ptr = &waiters;
  event_waiters event_polls(pool);  // GET /v1/events?wait_s= (the people's page)
  event_polls_ptr = &event_polls;
  claimable_listener listen(config.database_url,
                            [&](const std::string& queue) { waiters.notify(queue); },
                            [&] { waiters.notify_all(); });
  reaper_config reap_config;
  reap_config.on_returned = [&metrics](int tasks) { metrics.add_lease_expirations(tasks); };
  reaper reap(config.database_url, reap_config);
  // The auth cache's refresh: every third of its expiry, one statement on a
  // pool connection re-verifies the tokens still in use; one that fails to
  // run leaves them to expire (a query per call again), never believed longer.
  const auto refresh_every = std::max(std::chrono::milliseconds(100), tokens_config.expiry / 3);
  periodic_service refresh_tokens({"auth_cache", refresh_every, "re-verify cached tokens", ""},
                                  [&tokens, &pool] {
                                    auto due = std::make_shared<auth_cache::refresh_batch>(
                                        tokens.refresh_due());
                                    if (due->token_hashes.empty()) return 0;
                                    pool.post([&tokens, due](db_slot& slot) {
                                      tokens.refreshed(*due, slot.get().live_agents_by_token_hash(
                                                                 due->token_hashes));
                                    });
                                    return 0;
                                  });
  std::optional<retention> retain;
  if (config.retain_finished_s) {
    retention_config retain_config;
    retain_config.policy.finished_age_s = *config.retain_finished_s;
    retain_config.policy.disagreement_age_s = config.retain_disagreements_s;
    retain_config.on_deleted = [&metrics](int tasks) { metrics.add_retention_deleted(tasks); };
    retain.emplace(config.database_url, std::move(retain_config));
  }

  // A route's git step runs on the git executor, under the git deadline and
  // holding no database connection; its answer is made back on a database
  // thread (the submit records there). A remote that does not answer costs
  // an executor slot of its own remote until the deadline, nothing more.
  using reply_sink = std::function<void(http_reply)>;
  const auto git_timeout = std::chrono::seconds(std::max(1, config.git_timeout_s));
  auto run_git_step = [&pool, &handler, &git_jobs, git_timeout](handler_result first,
                                                                reply_sink finish) {
    auto step = std::make_shared<git_step>(std::move(*first.git));
    auto answer = [&pool, &handler, step, route = first.route, finish](git_outcome outcome) {
      pool.post([&handler, step, route, finish, outcome = std::move(outcome)](db_slot& slot) {
        auto get_store = [&]() -> store& { return slot.get(); };
        auto result = handler.finish_git(route, *step, outcome, get_store);
        // The only write after a git step is the submit, which answers a
        // repeat of a landed submit with the same success: a broken
        // connection gets one more go on a fresh one (docs/api.md, "Retries").
        if (result.database_failed) slot.drop();
        for (int retry = 0; retry < 2 && result.database_failed && result.connection_broke;
             ++retry) {
          result = handler.finish_git(route, *step, outcome, get_store);
          if (result.database_failed) slot.drop();
        }
        finish(std::move(result.reply));
      });
    };
    git_jobs.post(
        step->remote_key, clock::now() + git_timeout,
        [step, answer](clock::time_point deadline) {
          answer(request_handler::run_git_work(*step, deadline));
        },
        [step, answer, git_timeout] {
          git_outcome expired;
          expired.timed_out = true;
          expired.error = "repository '" + step->repo_name + "' did not answer within the git " +
                          "deadline (" + std::to_string(git_timeout.count()) +
                          " s, --git-timeout-s)";
          answer(std::move(expired));
        });
  };

  std::atomic<std::uint64_t> next_request_id{1};
  auto on_request = [&](std::shared_ptr<exchange> ex) {
    const auto started = clock::now();
    const auto id = next_request_id++;
    const auto& request = ex->request();
    const std::string route = request_handler::route_of(request.method, request.target);
    // Answers and logs once, whoever answers (the pool, a waiter, shutdown).
    auto finish = [&metrics, ex, started, id, route](http_reply reply) {
      const double seconds = std::chrono::duration<double>(clock::now() - started).count();
      metrics.observe_request(route, reply.status, seconds);
      spdlog::info("event=request id={} method={} route={} status={} latency_ms={:.1f}", id,
                   ex->request().method, path_of(route), reply.status, seconds * 1000);
      ex->respond(std::move(reply));
    };
    if (!request_handler::needs_database(request)) {
      finish(handler.handle(request, []() -> store& {
                        throw std::logic_error("this route needs no database");
                      }).reply);
      return;
    }
    const auto generation = waiters.generation();
    pool.post([&handler, &waiters, &event_polls, &run_git_step, ex, finish,
               generation](db_slot& slot) {
      auto get_store = [&]() -> store& { return slot.get(); };
      auto result = handler.begin(ex->request(), get_store);
      if (result.database_failed) slot.drop();
      // A connection that broke under the request (a killed backend) is not
      // the database being down: once more on a fresh connection, when
      // nothing committed or a repeat is safe (docs/api.md, "Retries").
      // Twice at most: the fresh connection may be killed too (a killer that
      // sweeps every backend), but a database that is down fails to connect.
      for (int retry = 0; retry < 2 && request_handler::worth_one_retry(result, ex->request());
           ++retry) {
        result = handler.begin(ex->request(), get_store);
        if (result.database_failed) slot.drop();
      }
      if (result.git) return run_git_step(std::move(result), finish);
      if (result.wait_for_events) {
        auto parked = event_polls.park(*result.wait_for_events, finish);
        if (parked) ex->on_client_gone([&event_polls, parked] { event_polls.cancel(parked); });
        return;
      }
      if (!result.park) return finish(std::move(result.reply));
      auto parked = waiters.park(std::move(*result.park), generation, finish);
      if (parked) ex->on_client_gone([&waiters, parked] { waiters.cancel(parked); });
    }, lane_of(route));
  };

  std::unique_ptr<http_listener> server;
  try {
    server = std::make_unique<http_listener>(host, port, on_request,
                                             [&metrics] { metrics.add_accept_failure(); });
  } catch (const std::exception& e) {
    std::cerr << "agentq serve: " << e.what() << "\n";
    return 1;
  }

  waiters.start();
  event_polls.start();
  listen.start();
  reap.start();
  landing.start();
  if (retain) retain->start();
  if (tokens.enabled()) refresh_tokens.start();

  std::thread signal_thread([&] {
    int received = 0;
    sigwait(&signals, &received);
    spdlog::info("event=shutdown signal={} in_flight={}", received, server->in_flight());
    server->stop_accepting();
    waiters.shutdown();  // parked long-polls answer 204 now
    event_polls.shutdown();
    const auto give_up = clock::now() + std::chrono::seconds(config.shutdown_grace_s);
    while (server->in_flight() > 0 && clock::now() < give_up)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    server->stop();
  });

  spdlog::info("event=listening host={} port={} db_pool={} lease_s={} retain_finished={} "
               "retain_disagreements={}",
               host, server->port(), config.db_pool, config.lease_s,
               config.retain_finished_s ? format_duration(*config.retain_finished_s) : "off",
               config.retain_disagreements_s ? format_duration(*config.retain_disagreements_s)
                                             : "forever");
  std::cout << "listening on " << host << ":" << server->port() << std::endl;

  server->run();
  signal_thread.join();

  if (retain) retain->stop();
  refresh_tokens.stop();
  landing.stop();
  git_jobs.stop();
  reap.stop();
  listen.stop();
  waiters.shutdown();
  event_polls.shutdown();
  pool.stop();
  spdlog::info("event=stopped");
  return 0;
}

}  // namespace agentq
