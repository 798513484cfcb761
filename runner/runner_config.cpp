#include "runner/runner_config.hpp"

#include <cstdlib>
#include <stdexcept>

#include "core/requests.hpp"
#include "core/token_file.hpp"

namespace agentq::runner {

namespace {

int to_int(const std::string& flag, const std::string& value, int min, int max) {
  std::size_t used = 0;
  long v = 0;
  try {
    v = std::stol(value, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != value.size() || value.empty() || v < min || v > max)
    throw std::invalid_argument(flag + " needs a whole number from " + std::to_string(min) +
                                " to " + std::to_string(max) + ", not '" + value + "'");
  return static_cast<int>(v);
}

std::vector<std::string> split_queues(const std::string& value) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= value.size()) {
    auto comma = value.find(',', start);
    std::string name = value.substr(start, comma == std::string::npos ? std::string::npos
                                                                     : comma - start);
    if (!name.empty()) {
      if (!is_valid_name(name, 64))
        throw std::invalid_argument("--queues: '" + name + "' is not a queue name");
      out.push_back(name);
    }
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

}  // namespace

env_lookup process_environment() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (!v || !*v) return std::nullopt;
    return std::string(v);
  };
}

parsed_config parse_config(const std::string& command_variable,
                           const std::vector<std::string>& args, const env_lookup& env) {
  parsed_config out;
  runner_config c;
  const std::string& cmd_var = command_variable;
  if (auto v = env("AGENTQ_SERVER")) c.server = *v;
  std::optional<std::string> flag_token, flag_token_file;
  if (auto v = env(cmd_var)) c.command = *v;
  if (auto v = env("AGENTQ_WORKDIR")) c.workdir = *v;

  try {
    for (std::size_t i = 0; i < args.size(); ++i) {
      std::string flag = args[i];
      std::optional<std::string> inline_value;
      if (auto eq = flag.find('='); flag.starts_with("--") && eq != std::string::npos) {
        inline_value = flag.substr(eq + 1);
        flag = flag.substr(0, eq);
      }
      if (flag == "-h" || flag == "--help") {
        out.help = true;
        return out;
      }
      auto value = [&]() -> std::string {
        if (inline_value) return *inline_value;
        if (i + 1 >= args.size()) throw std::invalid_argument(flag + " needs a value");
        return args[++i];
      };
      if (flag == "--server") c.server = value();
      else if (flag == "--token") flag_token = value();
      else if (flag == "--token-file") flag_token_file = value();
      else if (flag == "--cmd") c.command = value();
      else if (flag == "--workdir") c.workdir = value();
      else if (flag == "--queues") c.queues = split_queues(value());
      else if (flag == "--slots") c.slots = to_int(flag, value(), 1, 64);
      else if (flag == "--lease-s") c.lease_s = to_int(flag, value(), limits::lease_min_s, limits::lease_max_s);
      else if (flag == "--wait-s") c.wait_s = to_int(flag, value(), 0, limits::wait_max_s);
      else if (flag == "--task-timeout") c.task_timeout = std::chrono::seconds(to_int(flag, value(), 1, 7 * 24 * 3600));
      else if (flag == "--kill-grace") c.kill_grace = std::chrono::seconds(to_int(flag, value(), 0, 3600));
      else if (flag == "--stop-grace") c.stop_grace = std::chrono::seconds(to_int(flag, value(), 0, 24 * 3600));
      else if (flag == "--max-tasks") c.max_tasks = to_int(flag, value(), 0, 1000000000);
      else if (flag == "--idle-exit") c.idle_exit_s = to_int(flag, value(), 0, 1000000000);
      else if (flag == "--log-level") c.log_level = value();
      else if (flag == "--unhealthy-after") c.unhealthy_after = to_int(flag, value(), 0, 1000);
      else if (flag == "--agent-fault-s") c.agent_fault = std::chrono::seconds(to_int(flag, value(), 0, 24 * 3600));
      else if (flag == "--unhealthy-backoff-s") c.unhealthy_backoff = std::chrono::seconds(to_int(flag, value(), 1, 24 * 3600));
      else if (flag == "--unhealthy-backoff-max-s") c.unhealthy_backoff_max = std::chrono::seconds(to_int(flag, value(), 1, 24 * 3600));
      else throw std::invalid_argument("unknown option '" + args[i] + "'");
    }
    c.token = choose_token(flag_token, flag_token_file, env("AGENTQ_TOKEN"),
                           env("AGENTQ_TOKEN_FILE"))
                  .value_or("");
  } catch (const std::invalid_argument& e) {
    out.error = e.what();
    return out;
  }

  if (!c.server.starts_with("http://") || c.server.size() <= 7)
    out.error = "the server URL must look like http://host:port, not '" + c.server +
                "' (--server or AGENTQ_SERVER)";
  else if (c.token.empty())
    out.error = "no token: set AGENTQ_TOKEN_FILE (or --token-file) to a file holding this "
                "agent's bearer token, or AGENTQ_TOKEN";
  else if (c.command.empty())
    out.error = "no command: set " + cmd_var + " (or --cmd) to the command to run";
  else if (c.workdir.empty())
    out.error = "the work directory must not be empty";
  else if (c.log_level != "trace" && c.log_level != "debug" && c.log_level != "info" &&
           c.log_level != "warn" && c.log_level != "error")
    out.error = "--log-level must be one of trace, debug, info, warn, error";
  if (out.error.empty()) out.config = std::move(c);
  return out;
}

}  // namespace agentq::runner
