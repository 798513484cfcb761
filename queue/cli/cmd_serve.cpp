// agentq serve, agentq migrate: the two commands that talk to the database.
#include <cstdlib>
#include <iostream>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "core/duration.hpp"
#include "core/safe_log_formatter.hpp"
#include "cli.hpp"
#include "http/server.hpp"
#include "store/migrator.hpp"
#include "core/defaults.hpp"

namespace agentq::cli {
namespace {

const char* serve_usage = R"(Usage: agentq serve [OPTIONS]

Runs the HTTP API of docs/api.md §5 until SIGTERM or SIGINT (then it stops
accepting, answers waiting long-polls with 204 and finishes what is in flight).
Prints "listening on HOST:PORT" on stdout once it accepts connections; logs go
to stderr.

Options (environment variable defaults in brackets):
  --database-url URL      libpq connection string or URI [AGENTQ_DATABASE_URL,
                          postgresql:///agentq]
  --listen HOST:PORT      address to listen on; port 0 picks a free one
                          [AGENTQ_LISTEN, 127.0.0.1:7420]
  --admin-token TOKEN     bootstrap admin secret [AGENTQ_ADMIN_TOKEN; none: only
                          agents with the admin role can administer]
  --lease-s N             lease of a claim that names none (5..3600) [300]
  --first-lease-s N       a claim's lease until its first heartbeat, when shorter
                          (0..3600; 0: the whole lease from the start) [10]
  --db-pool N             database connections serving requests [8]; one more
                          serves only heartbeats (taken ahead of other calls)
  --retry-backoff-s N     backoff of a released task: N, 2N, 4N ... seconds [5]
  --git-cache DIR         bare mirrors for submit checks and merges
                          [.agentq/server-git]; one per server process
  --git-timeout-s N       deadline of every network git operation: fetch, push,
                          the submit check (1..3600) [AGENTQ_GIT_TIMEOUT_S, 30]
  --keep-task-branches    keep a task's agentq/<id>/<token> branches on the
                          remote after its merge (default: deleted)
  --repo-roots DIRS       colon-separated directories that local repository
                          paths and file:// URLs must be in [AGENTQ_REPO_ROOTS;
                          none: local repositories are refused]
  --allow-private-repo-hosts
                          accept repository URLs on loopback, link-local and
                          private addresses [AGENTQ_ALLOW_PRIVATE_REPO_HOSTS=1;
                          refused by default]
  --retain-finished AGE   delete done, failed and cancelled tasks (with their
                          claims, events, submissions, reviews, merges) AGE
                          after they finished: a number and a unit s, m, h, d;
                          0 or off keeps them [AGENTQ_RETAIN_FINISHED, 30d]
  --retain-disagreements AGE
                          tasks with disagreement-log entries: forever keeps
                          them and their entries; AGE deletes them too once
                          older than AGE and --retain-finished
                          [AGENTQ_RETAIN_DISAGREEMENTS, forever]
  --auth-cache-s N        believe the database's "this token is live" N seconds
                          (0..300; 0: a query on every call): a token revoked
                          through another server stops working within N s,
                          through this one at once [5]
  --help                  this text
)";

const char* migrate_usage = R"(Usage: agentq migrate [--database-url URL]

Applies the migrations in sql/migrations that the database lacks, in one
transaction under an advisory lock (concurrent runs take turns).

  --database-url URL  libpq connection string or URI [AGENTQ_DATABASE_URL,
                      postgresql:///agentq]
)";

std::string env_or(const char* name, const std::string& fallback) {
  const char* value = std::getenv(name);
  return value && *value ? value : fallback;
}

void setup_logging() {
  auto logger = spdlog::stderr_color_mt("agentq");
  spdlog::set_default_logger(logger);
  // Every message escaped (control characters) and URL credentials masked.
  spdlog::set_formatter(std::make_unique<safe_log_formatter>(
      "%Y-%m-%dT%H:%M:%S.%eZ level=%l %v", spdlog::pattern_time_type::utc));
}

}  // namespace

int run_serve(const std::vector<std::string>& args) {
  arg_list list(args,
                {"database-url", "listen", "admin-token", "lease-s", "db-pool", "retry-backoff-s",
                 "git-cache", "git-timeout-s", "repo-roots", "first-lease-s", "retain-finished",
                 "retain-disagreements", "auth-cache-s"},
                {"help", "keep-task-branches", "allow-private-repo-hosts"});
  if (list.flag("help")) {
    std::cout << serve_usage;
    return exit_ok;
  }
  list.expect_positionals(0);
  server_config config;
  config.database_url = list.value("database-url").value_or(
      env_or("AGENTQ_DATABASE_URL", defaults::database_url));
  config.listen = list.value("listen").value_or(env_or("AGENTQ_LISTEN", defaults::listen));
  if (auto token = list.value("admin-token").value_or(env_or("AGENTQ_ADMIN_TOKEN", ""));
      !token.empty()) {
    config.admin_token = token;
  }
  if (auto v = list.value("lease-s")) {
    config.lease_s = parse_int(*v, "--lease-s");
    if (config.lease_s < defaults::lease_min_s || config.lease_s > defaults::lease_max_s)
      usage_error("--lease-s must be " + std::to_string(defaults::lease_min_s) + ".." +
                  std::to_string(defaults::lease_max_s));
  }
  if (auto v = list.value("first-lease-s")) {
    config.first_lease_s = parse_int(*v, "--first-lease-s");
    if (config.first_lease_s < 0 || config.first_lease_s > defaults::lease_max_s)
      usage_error("--first-lease-s must be 0.." + std::to_string(defaults::lease_max_s));
  }
  if (auto v = list.value("auth-cache-s")) {
    config.auth_cache_s = parse_int(*v, "--auth-cache-s");
    if (config.auth_cache_s < 0 || config.auth_cache_s > 300)
      usage_error("--auth-cache-s must be 0..300");
  }
  if (auto v = list.value("db-pool")) {
    config.db_pool = parse_int(*v, "--db-pool");
    if (config.db_pool < 1 || config.db_pool > 256) usage_error("--db-pool must be 1..256");
  }
  if (auto v = list.value("retry-backoff-s")) {
    config.retry_backoff_s = parse_int(*v, "--retry-backoff-s");
    if (config.retry_backoff_s < 0 || config.retry_backoff_s > 3600)
      usage_error("--retry-backoff-s must be 0..3600");
  }
  if (auto v = list.value("git-cache")) config.git_cache = *v;
  if (auto v = list.value("git-timeout-s").value_or(env_or("AGENTQ_GIT_TIMEOUT_S", ""));
      !v.empty()) {
    config.git_timeout_s = parse_int(v, "--git-timeout-s");
    if (config.git_timeout_s < 1 || config.git_timeout_s > 3600)
      usage_error("--git-timeout-s must be 1..3600");
  }
  // A flag given (even empty) wins over the environment; an empty variable
  // is unset, like the others.
  auto flag_or_env = [&](const char* flag, const char* env) -> std::optional<std::string> {
    if (auto v = list.value(flag)) return v;
    if (auto v = env_or(env, ""); !v.empty()) return v;
    return std::nullopt;
  };
  try {
    if (auto v = flag_or_env("retain-finished", "AGENTQ_RETAIN_FINISHED"))
      config.retain_finished_s = parse_retention_age(*v, "--retain-finished");
    if (auto v = flag_or_env("retain-disagreements", "AGENTQ_RETAIN_DISAGREEMENTS"))
      config.retain_disagreements_s = parse_disagreement_age(*v, "--retain-disagreements");
  } catch (const std::invalid_argument& e) {
    usage_error(e.what());
  }
  config.keep_task_branches = list.flag("keep-task-branches");
  config.repo_urls.local_roots = repo_url_policy::parse_roots(
      list.value("repo-roots").value_or(env_or("AGENTQ_REPO_ROOTS", "")));
  const auto allow_private = env_or("AGENTQ_ALLOW_PRIVATE_REPO_HOSTS", "0");
  if (allow_private != "0" && allow_private != "1")
    usage_error("AGENTQ_ALLOW_PRIVATE_REPO_HOSTS must be 0 or 1");
  config.repo_urls.allow_private_hosts =
      list.flag("allow-private-repo-hosts") || allow_private == "1";
  setup_logging();
  if (config.admin_token && config.admin_token->size() < 16)
    spdlog::warn("event=weak_admin_token length={} hint=\"use 16 or more random characters, "
                 "e.g. openssl rand -hex 32\"",
                 config.admin_token->size());
  try {
    return run_server(config);
  } catch (const std::invalid_argument& e) {
    usage_error(e.what());
  }
}

int run_migrate(const std::vector<std::string>& args) {
  arg_list list(args, {"database-url"}, {"help"});
  if (list.flag("help")) {
    std::cout << migrate_usage;
    return exit_ok;
  }
  list.expect_positionals(0);
  const std::string url = list.value("database-url").value_or(
      env_or("AGENTQ_DATABASE_URL", defaults::database_url));
  try {
    auto report = migrate_database(url);
    for (const auto& name : report.applied) std::cout << "applied " << name << "\n";
    std::cout << "schema at version " << report.version << "\n";
    return exit_ok;
  } catch (const std::exception& e) {
    throw cli_exit(exit_refused, std::string("migrate failed: ") + e.what());
  }
}

}  // namespace agentq::cli
