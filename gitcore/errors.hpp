#pragma once
// The errors of agentq's git, for callers that do not include libgit2.

#include <stdexcept>

namespace agentq::git {

// A git operation failed. The message says what, with URLs redacted.
struct failure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// A git operation did not finish before its deadline (the server's network
// git, queue/git). The message names the repository, never credentials.
// HTTP answers it with 503 and Retry-After.
struct timeout : failure {
  using failure::failure;
};

}  // namespace agentq::git
