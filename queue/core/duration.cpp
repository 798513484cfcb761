#include "core/duration.hpp"

#include <stdexcept>

namespace agentq {
namespace {

std::int64_t unit_s(char unit) {
  switch (unit) {
    case 's': return 1;
    case 'm': return 60;
    case 'h': return 3600;
    case 'd': return 86400;
    default: return 0;
  }
}

}  // namespace

std::int64_t parse_duration_s(const std::string& text, const std::string& what) {
  auto refuse = [&](const std::string& why) -> std::int64_t {
    throw std::invalid_argument(what + " must be a number and a unit (s, m, h or d), such as " +
                                "30d or 12h, from 1s to 36500d; '" + text + "' " + why);
  };
  if (text.size() < 2) return refuse("is not");
  const std::int64_t unit = unit_s(text.back());
  if (unit == 0) return refuse("has no unit");
  const std::string digits = text.substr(0, text.size() - 1);
  if (digits.size() > 12 || digits.find_first_not_of("0123456789") != std::string::npos)
    return refuse("is not");
  const std::int64_t seconds = std::stoll(digits) * unit;
  if (seconds < 1 || seconds > duration_max_s) return refuse("is out of range");
  return seconds;
}

std::optional<std::int64_t> parse_retention_age(const std::string& text,
                                                const std::string& what) {
  if (text == "0" || text == "off") return std::nullopt;
  try {
    return parse_duration_s(text, what);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(std::string(e.what()) + " (0 or off: keep finished tasks)");
  }
}

std::optional<std::int64_t> parse_disagreement_age(const std::string& text,
                                                   const std::string& what) {
  if (text == "forever") return std::nullopt;
  try {
    return parse_duration_s(text, what);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(std::string(e.what()) +
                                " (forever: keep tasks with disagreement entries)");
  }
}

std::string format_duration(std::int64_t seconds) {
  for (char unit : {'d', 'h', 'm'})
    if (seconds % unit_s(unit) == 0) return std::to_string(seconds / unit_s(unit)) + unit;
  return std::to_string(seconds) + "s";
}

}  // namespace agentq
