#pragma once
// The table of every route and the lookup the handler, the server and
// /metrics derive their decisions from: 404 or 405 (with Allow), whether a
// request needs the database, and the fixed set of route labels.

#include <optional>
#include <string>
#include <vector>

#include "http/routes/route.hpp"

namespace agentq {

const std::vector<route>& route_table();

struct route_match {
  const route* found = nullptr;     // the route to run (HEAD finds the GET route)
  std::vector<std::string> params;  // the segments its {…} matched
  std::string allow;                // no route for the method: "GET, HEAD" — 405; empty: 404
};

// path: the target without its query string.
route_match match_route(const std::string& method, const std::string& path);

}  // namespace agentq
