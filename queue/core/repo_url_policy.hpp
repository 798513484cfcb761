#pragma once
// Which repository URLs the server accepts (issue 10, item 11). The server
// fetches and pushes every registered repository, so a URL is a request to
// read a place: a local path only under the directories the operator named
// (AGENTQ_REPO_ROOTS), and a network host on a loopback, link-local or
// private address (cloud metadata, the database, admin ports) only when the
// operator allowed it (AGENTQ_ALLOW_PRIVATE_REPO_HOSTS).
//
// Host names are judged as written ("localhost" and IP literals in any form
// inet_aton takes); names are not resolved here, so a public name that
// resolves to a private address is not caught: keep the server's outbound
// network restricted where that matters.

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace agentq {

struct repo_url_policy {
  // Directories local repositories (absolute paths, file:// URLs) may be in;
  // empty: no local path is accepted.
  std::vector<std::filesystem::path> local_roots;
  bool allow_private_hosts = false;

  // Roots from a colon-separated list (AGENTQ_REPO_ROOTS); each is made
  // absolute and canonical (symlinks resolved) so that a comparison with a
  // canonical repository path means what it says.
  static std::vector<std::filesystem::path> parse_roots(const std::string& colon_list);

  // Why `url` (already of a valid shape) is refused, naming the setting that
  // would allow it; nullopt when it is allowed.
  std::optional<std::string> refusal(const std::string& url) const;
};

// The host of a network URL (https://, http://, ssh://, git://, user@host:path),
// without brackets, user or port; nullopt for local paths and file:// URLs.
std::optional<std::string> repo_url_host(const std::string& url);

// Loopback, link-local, private, shared (CGNAT) or unspecified: "localhost",
// *.localhost, and IPv4/IPv6 literals in those ranges.
bool is_private_host(const std::string& host);

}  // namespace agentq
