#include "http/routes/route_support.hpp"

#include "http/request_parsing.hpp"

namespace agentq {

void fail(error_code code, std::string message) { throw refused(refuse(code, std::move(message))); }

http_reply json_reply(int status, const nlohmann::json& body) {
  http_reply reply;
  reply.status = status;
  reply.body = body.dump();
  return reply;
}

std::int64_t path_id(const std::string& text, const char* what) {
  auto id = parse_positive(text);
  if (!id) fail(error_code::invalid_request, std::string(what) + " id must be a positive integer");
  return *id;
}

nlohmann::json parse_body(const std::string& body, bool empty_is_object) {
  if (body.empty() && empty_is_object) return nlohmann::json::object();
  if (!nesting_within(body, 32))
    fail(error_code::invalid_request, "the request body nests deeper than 32 levels");
  auto parsed = nlohmann::json::parse(body, nullptr, false);
  if (parsed.is_discarded())
    fail(error_code::invalid_request, "the request body is not valid JSON (UTF-8)");
  return parsed;
}

http_reply unavailable_reply(const std::string& message, int retry_after_s) {
  auto reply = request_handler::error(refuse(error_code::unavailable, message));
  reply.headers.emplace_back("Retry-After", std::to_string(retry_after_s));
  return reply;
}

http_reply git_unavailable(const std::string& repo_name, const git_outcome& outcome,
                           const std::string& what_for, int retry_after_s) {
  const std::string why = outcome.timed_out
                              ? "repository '" + repo_name + "' did not answer in time"
                              : "cannot read repository '" + repo_name + "'";
  return unavailable_reply(why + " " + what_for + "; retry later", retry_after_s);
}

}  // namespace agentq
