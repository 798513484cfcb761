// agentq health: asks a server's /readyz (or /healthz with --live) and says
// whether it is ready. It is the container image's healthcheck: the image
// needs no curl or shell tricks to probe its own server.
#include <chrono>
#include <iostream>

#include "cli.hpp"
#include "http_client.hpp"

namespace agentq::cli {
namespace {

const char* usage = R"(Usage: agentq [--server URL] health [--live] [--timeout S]

Asks the server whether it is ready (GET /readyz: the database answers and
its schema is the one this build needs) and exits 0 if it is. No token needed.

  --live         ask only whether the process answers (GET /healthz)
  --timeout S    give up after S seconds (1..300) [5]

Exit codes: 0 ready, 1 the server answered but is not ready (its reason is
printed), 3 the server could not be reached in time.
)";

}  // namespace

int run_health(const connection_options& conn, const std::vector<std::string>& args) {
  arg_list a(args, {"timeout"}, {"live", "help"});
  if (a.flag("help")) {
    std::cout << usage;
    return exit_ok;
  }
  a.expect_positionals(0);
  int timeout_s = 5;
  if (auto text = a.value("timeout")) timeout_s = parse_int(*text, "--timeout");
  if (timeout_s < 1 || timeout_s > 300) usage_error("--timeout must be 1..300 seconds");
  const std::string target = a.flag("live") ? "/healthz" : "/readyz";

  http_response response;
  try {
    http_client client(conn.server, "");
    response = client.request("GET", target, nullptr, std::chrono::seconds(timeout_s));
  } catch (const http_unreachable& e) {
    throw cli_exit(exit_unreachable, std::string(e.what()) + "\nIs `agentq serve` running at " +
                                         conn.server + "? Set --server or AGENTQ_SERVER.");
  } catch (const std::invalid_argument& e) {
    usage_error(e.what());
  }
  if (response.status == 200) {
    std::cout << conn.server << target << ": " << response.raw_body << "\n";
    return exit_ok;
  }
  throw cli_exit(exit_refused, conn.server + target + " answered " +
                                   std::to_string(response.status) + ": " +
                                   (response.error_message().empty() ? response.raw_body
                                                                     : response.error_message()));
}

}  // namespace agentq::cli
