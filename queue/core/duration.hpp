#pragma once
// Ages people write on a command line: `agentq serve --retain-finished 30d`.
// A number and one unit, s m h d (seconds, minutes, hours, days), from 1 s to
// 36500 d. Pure; tested as a table in tests/unit/duration_test.cpp.

#include <cstdint>
#include <optional>
#include <string>

namespace agentq {

inline constexpr std::int64_t duration_max_s = 36500LL * 86400;  // 100 years

// "30d" -> 2592000. Throws std::invalid_argument naming `what` and saying
// what is accepted, for anything else (a bare number too: "30" could be
// seconds or days).
std::int64_t parse_duration_s(const std::string& text, const std::string& what);

// --retain-finished: a duration, or "0" / "off" for no retention (nullopt).
std::optional<std::int64_t> parse_retention_age(const std::string& text,
                                                const std::string& what);

// --retain-disagreements: a duration, or "forever" (nullopt: tasks with
// entries in the disagreement log are never deleted).
std::optional<std::int64_t> parse_disagreement_age(const std::string& text,
                                                   const std::string& what);

// 2592000 -> "30d", 5400 -> "90m": the largest unit that divides it.
std::string format_duration(std::int64_t seconds);

}  // namespace agentq
