#include "http/routes/route_support.hpp"

#include <optional>
#include <set>
#include <vector>

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
  using nlohmann::json;
  if (body.empty() && empty_is_object) return json::object();
  // nlohmann's reader takes a NUL byte for the end of its input, so
  // "{...}\0anything" would pass as "{...}". JSON has no raw NUL anywhere (in
  // a string it is written \u0000), so any NUL refuses the body.
  if (body.find('\0') != std::string::npos)
    fail(error_code::invalid_request,
         "the request body holds a NUL byte; JSON allows none (write \\u0000 in a string)");
  if (!nesting_within(body, 32))
    fail(error_code::invalid_request, "the request body nests deeper than 32 levels");
  // A repeated key is kept by the last one silently; a client that sent two
  // 'token's must not have to guess which one counted. One set of keys per
  // object being read, at any depth.
  std::vector<std::set<std::string>> open_objects;
  std::optional<std::string> repeated;
  auto parsed = json::parse(
      body,
      [&](int, json::parse_event_t event, json& value) {
        if (event == json::parse_event_t::object_start) {
          open_objects.emplace_back();
        } else if (event == json::parse_event_t::object_end) {
          if (!open_objects.empty()) open_objects.pop_back();
        } else if (event == json::parse_event_t::key && !open_objects.empty() && !repeated) {
          if (!open_objects.back().insert(value.get<std::string>()).second)
            repeated = value.get<std::string>();
        }
        return true;
      },
      false);
  if (parsed.is_discarded())
    fail(error_code::invalid_request, "the request body is not valid JSON (UTF-8)");
  if (repeated)
    fail(error_code::invalid_request,
         repeated->size() <= 100 ? "the request body repeats the key '" + *repeated + "'"
                                 : std::string("the request body repeats a key"));
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
