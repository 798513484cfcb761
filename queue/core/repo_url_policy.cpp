#include "core/repo_url_policy.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <string_view>

namespace agentq {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view network_schemes[] = {"https://", "http://", "ssh://", "git://"};

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

// The local path a URL names: an absolute path, or file:// with an empty or
// "localhost" host. nullopt: not a local URL. "" : a file:// URL that names
// another host or hides its path in percent-escapes (refused).
std::optional<std::string> local_path_of(const std::string& url) {
  if (url.starts_with("/")) return url;
  if (!url.starts_with("file://")) return std::nullopt;
  std::string rest = url.substr(7);
  if (lower(rest).starts_with("localhost/")) rest = rest.substr(9);
  if (!rest.starts_with("/") || rest.find('%') != std::string::npos) return std::string();
  return rest;
}

// Canonical (symlinks resolved as far as the path exists, "." and ".."
// removed): a symlink or ".." inside a root cannot lead out of it.
fs::path canonical_path(const fs::path& path) {
  std::error_code ec;
  auto canonical = fs::weakly_canonical(path, ec);
  return ec ? path.lexically_normal() : canonical;
}

bool is_under(const fs::path& path, const fs::path& root) {
  auto p = path.begin();
  for (auto r = root.begin(); r != root.end(); ++r, ++p) {
    if (r->empty()) continue;  // a root's trailing slash
    if (p == path.end() || *p != *r) return false;
  }
  return true;
}

bool is_private_v4(std::uint32_t address) {  // host byte order
  auto in = [address](std::uint32_t net, int bits) {
    const std::uint32_t mask = bits == 0 ? 0 : ~std::uint32_t{0} << (32 - bits);
    return (address & mask) == net;
  };
  return in(0x00000000, 8)       // 0.0.0.0/8: "this host"
         || in(0x0A000000, 8)    // 10/8
         || in(0x64400000, 10)   // 100.64/10: shared (CGNAT)
         || in(0x7F000000, 8)    // 127/8: loopback
         || in(0xA9FE0000, 16)   // 169.254/16: link-local, cloud metadata
         || in(0xAC100000, 12)   // 172.16/12
         || in(0xC0A80000, 16);  // 192.168/16
}

bool is_private_v6(const in6_addr& a) {
  const auto* b = a.s6_addr;
  static const std::uint8_t zeros[16] = {};
  if (std::memcmp(b, zeros, 15) == 0 && (b[15] == 0 || b[15] == 1)) return true;  // :: and ::1
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return true;  // fe80::/10 link-local
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0) return true;  // fec0::/10 site-local
  if ((b[0] & 0xfe) == 0xfc) return true;                   // fc00::/7 unique local
  static const std::uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(b, mapped, 12) == 0 || std::memcmp(b, zeros, 12) == 0) {  // ::ffff:a.b.c.d
    std::uint32_t v4 = (std::uint32_t{b[12]} << 24) | (std::uint32_t{b[13]} << 16) |
                       (std::uint32_t{b[14]} << 8) | b[15];
    return is_private_v4(v4);
  }
  return false;
}

}  // namespace

std::optional<std::string> repo_url_host(const std::string& url) {
  for (auto scheme : network_schemes) {
    if (!url.starts_with(scheme)) continue;
    std::string authority = url.substr(scheme.size());
    authority = authority.substr(0, authority.find_first_of("/?#"));
    if (auto at = authority.rfind('@'); at != std::string::npos) authority.erase(0, at + 1);
    if (authority.starts_with("[")) {
      auto close = authority.find(']');
      return authority.substr(1, close == std::string::npos ? std::string::npos : close - 1);
    }
    return authority.substr(0, authority.find(':'));
  }
  if (url.starts_with("/") || url.starts_with("file://")) return std::nullopt;
  // user@host:path
  auto at = url.find('@');
  if (at == std::string::npos) return std::nullopt;
  if (url.compare(at + 1, 1, "[") == 0) {
    auto close = url.find(']', at);
    if (close == std::string::npos) return std::nullopt;
    return url.substr(at + 2, close - at - 2);
  }
  auto colon = url.find(':', at);
  if (colon == std::string::npos) return std::nullopt;
  return url.substr(at + 1, colon - at - 1);
}

bool is_private_host(const std::string& written) {
  std::string host = lower(written);
  while (!host.empty() && host.back() == '.') host.pop_back();
  if (host.empty()) return true;  // no host: the local machine
  if (host == "localhost" || host.ends_with(".localhost")) return true;
  in_addr v4{};
  if (::inet_aton(host.c_str(), &v4) != 0) return is_private_v4(ntohl(v4.s_addr));
  std::string v6text = host.substr(0, host.find('%'));  // fe80::1%eth0
  in6_addr v6{};
  if (::inet_pton(AF_INET6, v6text.c_str(), &v6) == 1) return is_private_v6(v6);
  return false;
}

std::vector<fs::path> repo_url_policy::parse_roots(const std::string& colon_list) {
  std::vector<fs::path> roots;
  std::string_view rest = colon_list;
  while (!rest.empty()) {
    auto colon = rest.find(':');
    std::string item(rest.substr(0, colon));
    rest = colon == std::string_view::npos ? std::string_view() : rest.substr(colon + 1);
    if (item.empty()) continue;
    roots.push_back(canonical_path(fs::absolute(item)));
  }
  return roots;
}

std::optional<std::string> repo_url_policy::refusal(const std::string& url) const {
  if (auto path = local_path_of(url)) {
    if (path->empty())
      return "'url' is a file:// URL that names another host or uses percent-escapes: "
             "give the repository's plain absolute path";
    if (local_roots.empty())
      return "'url' is a local path and this server accepts none: start agentq serve with "
             "AGENTQ_REPO_ROOTS (or --repo-roots) naming the directories that hold its "
             "repositories";
    const auto canonical = canonical_path(*path);
    for (const auto& root : local_roots)
      if (is_under(canonical, root)) return std::nullopt;
    std::string roots;
    for (const auto& root : local_roots) roots += (roots.empty() ? "" : ":") + root.string();
    return "'url' is a local path outside the allowed repository roots (" + roots +
           "): put the repository under one of them, or add its directory to "
           "AGENTQ_REPO_ROOTS (or --repo-roots)";
  }
  auto host = repo_url_host(url);
  if (host && !allow_private_hosts && is_private_host(*host))
    return "'url' names a loopback, link-local or private host ('" + *host +
           "'); to allow such hosts start agentq serve with AGENTQ_ALLOW_PRIVATE_REPO_HOSTS=1 "
           "(or --allow-private-repo-hosts)";
  return std::nullopt;
}

}  // namespace agentq
