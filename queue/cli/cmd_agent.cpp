// agentq agent add|list|revoke
#include <iostream>

#include "cli.hpp"

namespace agentq::cli {
namespace {

using json = nlohmann::json;

const char* usage = R"(Usage: agentq agent COMMAND [ARGS]

  add NAME --role worker|reviewer|admin [--json]
                 make an agent; prints its bearer token ONCE (only a hash is
                 kept). --json prints exactly {"name", "role", "token"}.
  list [--json]  every agent with its role, and when it was revoked
  revoke NAME    the agent's token stops working at once
)";

}  // namespace

int run_agent(const connection_options& conn, const std::vector<std::string>& args) {
  arg_list a(args, {"role"}, {"json", "help"});
  if (a.flag("help") || a.positionals().empty()) {
    std::cout << usage;
    return a.flag("help") ? exit_ok : exit_usage;
  }
  const std::string& verb = a.positionals()[0];
  if (verb == "add") {
    a.expect_positionals(2);
    auto role = a.value("role");
    if (!role) usage_error("--role worker|reviewer|admin is required");
    auto answer =
        call(conn, "POST", "/v1/agents", {{"name", a.positional(1, "NAME")}, {"role", *role}});
    if (a.flag("json")) {
      std::cout << json{{"name", answer["name"]}, {"role", answer["role"]},
                        {"token", answer["token"]}}
                       .dump()
                << "\n";
    } else {
      std::cout << "agent " << cell(answer["name"]) << " (" << cell(answer["role"]) << ")\n"
                << "token (shown once; give it to the agent as AGENTQ_TOKEN):\n"
                << cell(answer["token"]) << "\n";
    }
    return exit_ok;
  }
  if (verb == "list") {
    a.expect_positionals(1);
    auto answer = call(conn, "GET", "/v1/agents");
    if (a.flag("json")) {
      std::cout << answer.dump() << "\n";
      return exit_ok;
    }
    std::vector<std::vector<std::string>> rows;
    for (const auto& agent : answer["agents"]) {
      // What its runner last reported (docs/api.md "Runner health").
      const auto runner = agent.value("runner", nlohmann::json());
      std::string health = "-";
      if (runner.is_object()) {
        health = cell(runner["status"]) + " since " + cell(runner["at"]);
        if (runner["reason"].is_string()) health += ": " + cell(runner["reason"]);
      }
      rows.push_back({cell(agent["name"]), cell(agent["role"]), cell(agent["created_at"]),
                      agent["revoked_at"].is_null() ? "active"
                                                    : "revoked " + cell(agent["revoked_at"]),
                      health});
    }
    if (rows.empty())
      std::cout << "no agents (add one: agentq agent add NAME --role worker)\n";
    else
      print_table({"NAME", "ROLE", "CREATED", "STATUS", "RUNNER"}, rows);
    return exit_ok;
  }
  if (verb == "revoke") {
    a.expect_positionals(2);
    const std::string& name = a.positional(1, "NAME");
    call(conn, "DELETE", "/v1/agents/" + url_encode(name));
    std::cout << "agent " << name << " revoked\n";
    return exit_ok;
  }
  usage_error("unknown command 'agent " + verb + "'; see agentq agent --help");
}

}  // namespace agentq::cli
