// agentq: the server (`agentq serve`), the schema (`agentq migrate`) and the
// admin commands, which talk to a running server over HTTP.
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "agentq/build_info.hpp"
#include "core/token_file.hpp"
#include "cli.hpp"
#include "core/defaults.hpp"

namespace {

const char* usage = R"(agentq — a PostgreSQL-backed task queue for teams of coding agents

Getting started:
  export AGENTQ_DATABASE_URL=postgresql:///agentq   # a database you may write to
  agentq migrate                                    # create or update the schema
  export AGENTQ_ADMIN_TOKEN=$(openssl rand -hex 32)
  agentq serve &                                    # HTTP API on 127.0.0.1:7420
  export AGENTQ_TOKEN=$AGENTQ_ADMIN_TOKEN           # the admin commands use it
  agentq repo add demo /path/to/repo.git --base-branch main
  agentq agent add worker-1 --role worker           # prints the worker's token once
  agentq task add "Fix the parser" --repo demo --body "..."
  agentq task list

Usage: agentq [--server URL] [--token TOKEN] COMMAND [ARGS] [--help]

Commands (talk to the database):
  migrate                       apply sql/migrations to the database
  serve                         run the HTTP server (see agentq serve --help)

Commands (talk to the server; an admin token):
  task add|list|show|cancel|requeue
  agent add|list|revoke
  repo add|list
  disagreements list|show|resolve
  Each has --help; listings take --json.

Commands (talk to the server; no token):
  health [--live]               exit 0 when the server is ready (/readyz)

Options:
  --server URL   server base URL (default $AGENTQ_SERVER or http://127.0.0.1:7420)
  --token-file FILE
                 a file holding the bearer token (default $AGENTQ_TOKEN_FILE)
  --token TOKEN  bearer token (default $AGENTQ_TOKEN; a file keeps it out of
                 the process list)
  --help         this text
  --version      the version and the git commit it was built from

Environment:
  AGENTQ_DATABASE_URL  libpq connection string or URI (default postgresql:///agentq)
  AGENTQ_LISTEN        host:port agentq serve listens on (default 127.0.0.1:7420)
  AGENTQ_ADMIN_TOKEN   bootstrap admin secret of agentq serve (none: admin API off)
  AGENTQ_SERVER        server base URL for the admin commands
  AGENTQ_TOKEN         bearer token for the admin commands
  AGENTQ_TOKEN_FILE    a file holding it instead (as Docker secrets provide)

Exit codes: 0 ok, 1 the server refused, 2 usage error, 3 server unreachable.
)";

std::string env_or(const char* name, const std::string& fallback) {
  const char* value = std::getenv(name);
  return value && *value ? value : fallback;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace agentq::cli;
  std::vector<std::string> args(argv + 1, argv + argc);
  connection_options conn{env_or("AGENTQ_SERVER", agentq::defaults::server_url), ""};
  std::string flag_token, flag_token_file;
  std::string command;
  std::vector<std::string> rest;
  try {
    // Global options may come before the command or after it.
    for (std::size_t i = 0; i < args.size(); ++i) {
      const std::string& arg = args[i];
      auto take = [&](const std::string& name, std::string& into) {
        if (arg == "--" + name) {
          if (i + 1 >= args.size()) usage_error("--" + name + " needs a value");
          into = args[++i];
          return true;
        }
        if (arg.rfind("--" + name + "=", 0) == 0) {
          into = arg.substr(name.size() + 3);
          return true;
        }
        return false;
      };
      if (take("server", conn.server) || take("token", flag_token) ||
          take("token-file", flag_token_file))
        continue;
      if (command.empty() && arg.rfind("-", 0) != 0) {
        command = arg;
        continue;
      }
      if (command.empty() && arg == "--version") {
        std::cout << "agentq " << agentq::build_info::version << " (commit "
                  << agentq::build_info::git_commit << ")\n";
        return exit_ok;
      }
      if (command.empty() && (arg == "--help" || arg == "-h")) {
        std::cout << usage;
        return exit_ok;
      }
      if (command.empty()) usage_error("unknown option " + arg + "; see agentq --help");
      rest.push_back(arg);
    }
    if (command.empty() || command == "help") {
      std::cout << usage;
      return command.empty() && !args.empty() ? exit_usage : exit_ok;
    }
    if (command == "migrate") return run_migrate(rest);
    if (command != "serve") {
      try {
        auto optional = [](const std::string& v) {
          return v.empty() ? std::nullopt : std::optional<std::string>(v);
        };
        auto env = [&](const char* name) { return optional(env_or(name, "")); };
        conn.token = agentq::choose_token(optional(flag_token), optional(flag_token_file),
                                          env("AGENTQ_TOKEN"), env("AGENTQ_TOKEN_FILE"))
                         .value_or("");
      } catch (const std::invalid_argument& e) {
        usage_error(e.what());
      }
    }
    if (command == "serve") return run_serve(rest);
    if (command == "task" || command == "tasks") return run_task(conn, rest);
    if (command == "agent" || command == "agents") return run_agent(conn, rest);
    if (command == "repo" || command == "repos") return run_repo(conn, rest);
    if (command == "disagreements" || command == "disagreement")
      return run_disagreements(conn, rest);
    if (command == "health") return run_health(conn, rest);
    usage_error("unknown command '" + command + "'; see agentq --help");
  } catch (const cli_exit& e) {
    std::cerr << "agentq: " << e.what() << "\n";
    if (e.code == exit_usage) std::cerr << "(agentq --help lists the commands)\n";
    return e.code;
  }
}
