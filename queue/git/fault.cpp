#include "git/fault.hpp"

#include <cstdlib>

#include <unistd.h>

namespace agentq {

bool fault_armed(std::string_view point) {
  const char* armed = std::getenv("AGENTQ_FAULT");
  if (!armed) return false;
  std::string_view list(armed);
  while (!list.empty()) {
    auto comma = list.find(',');
    auto item = list.substr(0, comma);
    if (item == point) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

void fault_point(std::string_view point) {
  if (fault_armed(point)) _exit(137);
}

}  // namespace agentq
