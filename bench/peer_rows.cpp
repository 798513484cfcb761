// The peers: queues a user could pick instead of agentq (graphile-worker,
// pg-boss), run by node from bench/peers/run.mjs against a fresh database on
// the same server, in the same run. The versions are pinned by
// bench/peers/package-lock.json; scripts/bench installs them (npm ci).
#include "rows.hpp"

#include <filesystem>
#include <memory>
#include <stdexcept>

#include <libpq-fe.h>
#include <nlohmann/json.hpp>

#include "child_process.hpp"

namespace agentq::bench {
namespace {

std::string percent_encode(const std::string& text) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

// node-postgres reads URIs only; the bench's URL may be key=value conninfo
// (host=/tmp/x dbname=y). Every parameter libpq parsed goes into the query
// string except user, password and dbname, which go where URIs put them.
std::string as_uri(const std::string& conninfo) {
  char* error = nullptr;
  std::unique_ptr<PQconninfoOption, decltype(&PQconninfoFree)> parsed(
      PQconninfoParse(conninfo.c_str(), &error), &PQconninfoFree);
  if (!parsed) {
    std::string message = error ? error : "unparsable";
    PQfreemem(error);
    throw std::runtime_error("peer rows: cannot read the database URL: " + message);
  }
  std::string user, password, dbname, query;
  for (auto* option = parsed.get(); option->keyword; ++option) {
    if (!option->val || !*option->val) continue;
    std::string key = option->keyword, value = option->val;
    if (key == "user") user = value;
    else if (key == "password") password = value;
    else if (key == "dbname") dbname = value;
    else if (key == "host" || key == "port" || key == "sslmode")
      query += (query.empty() ? "?" : "&") + key + "=" + percent_encode(value);
  }
  std::string auth = percent_encode(user);
  if (!password.empty()) auth += ":" + percent_encode(password);
  return "postgresql://" + auth + (auth.empty() ? "" : "@") + "/" + percent_encode(dbname) + query;
}

}  // namespace

bool peers_installed(const options& opts) {
  return std::filesystem::exists(std::filesystem::path(opts.peers_dir) / "node_modules" /
                                 "graphile-worker") &&
         std::filesystem::exists(std::filesystem::path(opts.peers_dir) / "node_modules" / "pg-boss");
}

row run_peer_row(const bench_template& tpl, const options& opts, const std::string& peer,
                 const std::string& mode, int clients, const std::string& work_dir) {
  bench_database db(tpl);
  namespace fs = std::filesystem;
  auto dir = fs::path(work_dir) / ("peer-" + peer + "-" + mode + "-" + std::to_string(clients));
  fs::create_directories(dir);
  child_process node({opts.node, (fs::path(opts.peers_dir) / "run.mjs").string(), "--peer", peer,
                      "--mode", mode, "--url", as_uri(db.url()), "--clients",
                      std::to_string(clients), "--duration", std::to_string(opts.duration_s),
                      "--jobs", std::to_string(opts.peer_jobs)},
                     (dir / "stdout").string(), (dir / "stderr").string());
  int status = node.wait();
  auto out = read_file((dir / "stdout").string());
  auto err = read_file((dir / "stderr").string());
  if (status != 0)
    throw std::runtime_error("peer " + peer + " " + mode + " exited " + std::to_string(status) +
                             ": " + err.substr(0, 400));
  auto answer = nlohmann::json::parse(out.substr(out.rfind('{')));

  std::string name = peer == "graphile" ? "graphile-worker 0.17.3 " : "pg-boss 10.4.2 ";
  row r = make_row("peer", name + mode, clients);
  r.tasks = answer.at("tasks").get<long>();
  r.seconds = answer.at("seconds").get<double>();
  r.tasks_per_s = answer.at("tasks_per_s").get<double>();
  r.p50_ms = answer.at("p50_ms").get<double>();
  r.p99_ms = answer.at("p99_ms").get<double>();
  r.versus = "minimal";
  if (answer.at("drained").get<bool>())
    r.note = "queue ran dry: the window ended early (raise --peer-jobs)";
  return r;
}

}  // namespace agentq::bench
