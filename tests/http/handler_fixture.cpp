#include "handler_fixture.hpp"

#include <stdexcept>

#include <pqxx/pqxx>

#include "process.hpp"

namespace agentq::testing {
namespace {

handler_config test_config() {
  handler_config config;
  config.admin_token = handler_admin_token;
  config.default_lease_s = 300;
  config.backoff.base_s = 0;
  config.repo_urls.local_roots = repo_url_policy::parse_roots(test_repo_roots());
  return config;
}

}  // namespace

handler_fixture::handler_fixture()
    : handler(test_config(), handler_services{nullptr, nullptr, &metrics, {}}) {
  queue.set_clock(at(0));
  auto repo = call("POST", "/v1/repos", handler_admin_token,
                   {{"name", "demo"}, {"url", "/tmp/agentq-demo.git"}, {"base_branch", "main"}});
  if (repo.reply.status != 201) throw std::runtime_error("repo: " + repo.reply.body);
  auto agent = [&](const std::string& name, const std::string& role) {
    auto made = call("POST", "/v1/agents", handler_admin_token, {{"name", name}, {"role", role}});
    if (made.reply.status != 201) throw std::runtime_error("agent: " + made.reply.body);
    return nlohmann::json::parse(made.reply.body)["token"].get<std::string>();
  };
  worker1 = agent("worker-1", "worker");
  worker2 = agent("worker-2", "worker");
  reviewer1 = agent("reviewer-1", "reviewer");
  reviewer2 = agent("reviewer-2", "reviewer");
  admin2 = agent("admin-2", "admin");
}

handler_result handler_fixture::call(const std::string& method, const std::string& target,
                                     const std::string& token, const nlohmann::json& body) {
  return raw(method, target, token, body.is_null() ? "" : body.dump());
}

handler_result handler_fixture::raw(const std::string& method, const std::string& target,
                                    const std::string& token, const std::string& body) {
  http_request request;
  request.method = method;
  request.target = target;
  if (!token.empty()) request.authorization = "Bearer " + token;
  request.body = body;
  return handler.handle(request, queue);
}

std::int64_t handler_fixture::add_task(const nlohmann::json& fields) {
  nlohmann::json body = {{"title", "a task"}, {"body", "do the thing"}, {"repo", "demo"}};
  if (fields.is_object()) body.update(fields);
  auto added = call("POST", "/v1/tasks", handler_admin_token, body);
  if (added.reply.status != 201) throw std::runtime_error("add: " + added.reply.body);
  return nlohmann::json::parse(added.reply.body)["task"]["id"].get<std::int64_t>();
}

nlohmann::json handler_fixture::claim(const std::string& token, const nlohmann::json& body) {
  auto answer = call("POST", "/v1/claims", token, body.is_null() ? nlohmann::json::object() : body);
  if (answer.reply.status != 200) throw std::runtime_error("claim: " + answer.reply.body);
  return nlohmann::json::parse(answer.reply.body);
}

nlohmann::json handler_fixture::fingerprint() {
  pqxx::read_transaction tx(sql);
  auto row = tx.exec1(
      "select jsonb_build_object("
      " 'tasks', (select jsonb_agg(to_jsonb(t) order by t.id) from tasks t),"
      " 'claims', (select jsonb_agg(to_jsonb(c) order by c.token) from claims c),"
      " 'submissions', (select jsonb_agg(to_jsonb(s) order by s.id) from submissions s),"
      " 'reviews', (select jsonb_agg(to_jsonb(r) order by r.id) from reviews r),"
      " 'feedback', (select jsonb_agg(to_jsonb(f) order by f.id) from feedback f),"
      " 'merges', (select jsonb_agg(to_jsonb(m) order by m.id) from merges m),"
      " 'disagreements', (select jsonb_agg(to_jsonb(d) order by d.id) from disagreements d),"
      " 'resolutions', (select jsonb_agg(to_jsonb(r) order by r.disagreement_id)"
      "                 from disagreement_resolutions r),"
      " 'events', (select jsonb_agg(to_jsonb(e) order by e.id) from events e),"
      " 'agents', (select jsonb_agg(to_jsonb(a) order by a.id) from agents a),"
      " 'repos', (select jsonb_agg(to_jsonb(r) order by r.id) from repos r),"
      " 'tokens', (select last_value from fencing_token_seq))::text");
  return nlohmann::json::parse(row[0].c_str());
}

}  // namespace agentq::testing
