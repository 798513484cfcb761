#include "core/log_text.hpp"

#include <regex>

namespace agentq {

std::string escape_control(std::string_view text) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x20 && byte != 0x7f) {
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else {
      out += "\\x";
      out += hex[byte >> 4];
      out += hex[byte & 0xf];
    }
  }
  return out;
}

std::string redact_credentials(std::string_view text) {
  // Everything between "://" and an '@' before the next '/' may be a secret
  // (the same rule as the server's git gateway).
  static const std::regex userinfo(R"(([A-Za-z][A-Za-z0-9+.-]*://)[^/@\s]+@)");
  return std::regex_replace(std::string(text), userinfo, "$1***@");
}

std::string log_safe(std::string_view text) { return redact_credentials(escape_control(text)); }

}  // namespace agentq
