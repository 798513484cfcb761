#include "gitcore/urls.hpp"

#include <cctype>
#include <regex>

namespace agentq::git {

std::string redact_url(const std::string& text) {
  // scheme://user:password@host or scheme://token@host: everything between
  // "://" and the '@' may be a secret.
  static const std::regex userinfo(R"(([A-Za-z][A-Za-z0-9+.-]*://)[^/@\s]+@)");
  return std::regex_replace(text, userinfo, "$1***@");
}

namespace {

std::optional<std::string> scheme_of(const std::string& url) {
  auto colon = url.find("://");
  if (colon == std::string::npos || colon == 0) return std::nullopt;
  for (std::size_t i = 0; i < colon; ++i) {
    char c = url[i];
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '.' || c == '-'))
      return std::nullopt;
  }
  return url.substr(0, colon);
}

// git's rule for scp-like syntax: a ':' before any '/' means host:path.
bool is_scp_like(const std::string& url) {
  auto colon = url.find(':');
  auto slash = url.find('/');
  return colon != std::string::npos && (slash == std::string::npos || colon < slash);
}

}  // namespace

std::optional<std::filesystem::path> local_path(const std::string& url) {
  if (auto scheme = scheme_of(url)) {
    if (*scheme != "file") return std::nullopt;
    return std::filesystem::path(url.substr(std::string("file://").size()));
  }
  if (is_scp_like(url)) return std::nullopt;
  return std::filesystem::path(url);
}

std::string remote_key(const std::string& url) {
  if (auto path = local_path(url)) return "local:" + path->lexically_normal().string();
  if (auto scheme = scheme_of(url)) {
    std::string rest = url.substr(scheme->size() + 3);
    rest = rest.substr(0, rest.find('/'));
    if (auto at = rest.rfind('@'); at != std::string::npos) rest = rest.substr(at + 1);
    return *scheme + "://" + rest;
  }
  std::string host = url.substr(0, url.find(':'));  // scp-like user@host:path
  if (auto at = host.rfind('@'); at != std::string::npos) host = host.substr(at + 1);
  return "ssh://" + host;
}

}  // namespace agentq::git
