#include "git/git_handles.hpp"

#include <regex>

namespace agentq::git::detail {

void ensure_libgit2() {
  static const int initialised = [] {
    int rc = git_libgit2_init();
    if (rc < 0) throw std::runtime_error("libgit2 could not start: " + last_error());
    return rc;
  }();
  (void)initialised;
}

std::string last_error() {
  const git_error* error = git_error_last();
  if (!error || !error->message) return "unknown libgit2 error";
  return redact_url(error->message);
}

std::string redact_url(const std::string& text) {
  // scheme://user:password@host or scheme://token@host: everything between
  // "://" and the '@' may be a secret.
  static const std::regex userinfo(R"(([A-Za-z][A-Za-z0-9+.-]*://)[^/@\s]+@)");
  return std::regex_replace(text, userinfo, "$1***@");
}

git_oid parse_oid(const std::string& hex) {
  git_oid oid;
  if (hex.size() != GIT_OID_HEXSZ || git_oid_fromstr(&oid, hex.c_str()) < 0)
    throw std::runtime_error("'" + hex + "' is not a full 40-hex commit id");
  return oid;
}

std::string to_hex(const git_oid& oid) {
  char buffer[GIT_OID_HEXSZ + 1];
  git_oid_tostr(buffer, sizeof buffer, &oid);
  return buffer;
}

}  // namespace agentq::git::detail
