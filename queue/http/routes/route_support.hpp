#pragma once
// What every route function uses: refusing (an exception the handler turns
// into the error body), JSON answers, path ids, request bodies, and the 503
// of a repository that could not be read.

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "core/refusal.hpp"
#include "http/handler.hpp"

namespace agentq {

// Thrown by route functions; request_handler turns it into the error answer.
struct refused : std::exception {
  explicit refused(refusal why) : why(std::move(why)) {}
  const char* what() const noexcept override { return why.message.c_str(); }
  refusal why;
};

[[noreturn]] void fail(error_code code, std::string message);

template <typename T>
T take(outcome<T> result) {
  if (!result) throw refused(result.error());
  return std::move(result.value());
}

http_reply json_reply(int status, const nlohmann::json& body);

// A path segment that must be a positive id ("task", "disagreement").
std::int64_t path_id(const std::string& text, const char* what);

// The body as JSON. An empty body counts as {} where every field is optional.
nlohmann::json parse_body(const std::string& body, bool empty_is_object = false);

// 503 with Retry-After.
http_reply unavailable_reply(const std::string& message, int retry_after_s);

// The 503 of a git step whose repository failed or did not answer in time:
// "cannot read repository 'R' <what_for>; retry later".
http_reply git_unavailable(const std::string& repo_name, const git_outcome& outcome,
                           const std::string& what_for, int retry_after_s);

}  // namespace agentq
