// agentq repo add|list
#include <iostream>

#include "cli.hpp"

namespace agentq::cli {
namespace {

const char* usage = R"(Usage: agentq repo COMMAND [ARGS]

  add NAME URL [--base-branch BRANCH] [--json]
                 register a repository: a local path, file://, https:// or
                 ssh URL the server can fetch from and push to (default
                 base branch: main)
  list [--json]  the registered repositories
)";

}  // namespace

int run_repo(const connection_options& conn, const std::vector<std::string>& args) {
  arg_list a(args, {"base-branch"}, {"json", "help"});
  if (a.flag("help") || a.positionals().empty()) {
    std::cout << usage;
    return a.flag("help") ? exit_ok : exit_usage;
  }
  const std::string& verb = a.positionals()[0];
  if (verb == "add") {
    a.expect_positionals(3);
    nlohmann::json body = {{"name", a.positional(1, "NAME")}, {"url", a.positional(2, "URL")}};
    if (auto branch = a.value("base-branch")) body["base_branch"] = *branch;
    auto answer = call(conn, "POST", "/v1/repos", body);
    if (a.flag("json"))
      std::cout << answer.dump() << "\n";
    else
      std::cout << "repository " << cell(answer["name"]) << " (" << cell(answer["url"])
                << ", base branch " << cell(answer["base_branch"]) << ")\n";
    return exit_ok;
  }
  if (verb == "list") {
    a.expect_positionals(1);
    auto answer = call(conn, "GET", "/v1/repos");
    if (a.flag("json")) {
      std::cout << answer.dump() << "\n";
      return exit_ok;
    }
    std::vector<std::vector<std::string>> rows;
    for (const auto& r : answer["repos"])
      rows.push_back({cell(r["name"]), cell(r["base_branch"]), cell(r["url"])});
    if (rows.empty())
      std::cout << "no repositories (add one: agentq repo add NAME URL)\n";
    else
      print_table({"NAME", "BASE", "URL"}, rows, 80);
    return exit_ok;
  }
  usage_error("unknown command 'repo " + verb + "'; see agentq repo --help");
}

}  // namespace agentq::cli
