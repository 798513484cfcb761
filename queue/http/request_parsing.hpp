#pragma once
// The small parsers under the request handler: paths, query strings, ids, and
// a guard against bodies nested deep enough to overflow the JSON parser's
// stack. Pure; no refusal texts here (the handler words those).

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace agentq {

// "/v1/tasks/12/submit" -> {"v1", "tasks", "12", "submit"}; "/" -> {}.
// nullopt for an empty segment (a doubled or trailing slash) or no leading '/'.
std::optional<std::vector<std::string>> split_path(const std::string& path);

// %XX and '+' decoded; nullopt for a broken escape.
std::optional<std::string> percent_decode(std::string_view text);

// "a=1&b=x%20y" -> {a: "1", b: "x y"}; the last of repeated keys wins.
std::optional<std::map<std::string, std::string>> parse_query(std::string_view query);

// A positive decimal integer that fits an int64 comfortably (<= 18 digits).
std::optional<std::int64_t> parse_positive(std::string_view text);

// Whether JSON text nests arrays/objects at most max_depth deep (strings,
// with their escapes, are skipped).
bool nesting_within(const std::string& text, int max_depth);

}  // namespace agentq
