// Which repository URLs the server accepts (issue 10, item 11): local paths
// only under the configured roots, private and loopback hosts only when
// allowed. Real directories and a real symlink that points out of a root.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "core/repo_url_policy.hpp"

using namespace agentq;
namespace fs = std::filesystem;

namespace {

struct scratch {
  fs::path root;
  scratch() {
    std::string pattern = (fs::temp_directory_path() / "agentq-roots-XXXXXX").string();
    REQUIRE(::mkdtemp(pattern.data()));
    root = fs::canonical(pattern);
    fs::create_directories(root / "repos" / "demo.git");
    fs::create_directories(root / "other");
    fs::create_symlink("/etc", root / "repos" / "escape");
  }
  ~scratch() {
    std::error_code ignored;
    fs::remove_all(root, ignored);
  }
};

}  // namespace

TEST_CASE("repository URLs outside the allow-list are refused naming the setting",
          "[unit][repo-urls]") {
  scratch s;
  const std::string repos = (s.root / "repos").string();
  repo_url_policy policy;
  policy.local_roots = repo_url_policy::parse_roots(repos + "/");

  struct row {
    std::string url;
    std::string names;  // a part of the refusal; "" = accepted
  };
  const std::vector<row> table = {
      // local paths: only under the roots
      {repos + "/demo.git", ""},
      {repos + "/not-yet-made.git", ""},
      {"file://" + repos + "/demo.git", ""},
      {"file://localhost" + repos + "/demo.git", ""},
      {repos, ""},
      {"/etc", "AGENTQ_REPO_ROOTS"},
      {"/", "AGENTQ_REPO_ROOTS"},
      {"file:///etc", "AGENTQ_REPO_ROOTS"},
      {(s.root / "other").string(), "AGENTQ_REPO_ROOTS"},
      {repos + "-sibling/x.git", "AGENTQ_REPO_ROOTS"},  // a prefix, not a parent
      {repos + "/../other", "AGENTQ_REPO_ROOTS"},
      {repos + "/demo.git/../../other", "AGENTQ_REPO_ROOTS"},
      {repos + "/escape", "AGENTQ_REPO_ROOTS"},  // a symlink to /etc
      {repos + "/escape/passwd", "AGENTQ_REPO_ROOTS"},
      {"file://other-host" + repos + "/demo.git", "plain absolute path"},
      {"file://" + repos + "/%2e%2e/other", "plain absolute path"},
      // network hosts: loopback, link-local, private only when allowed
      {"https://github.com/acme/app.git", ""},
      {"git@github.com:acme/app.git", ""},
      {"ssh://git@git.example.com:2222/app.git", ""},
      {"https://8.8.8.8/app.git", ""},
      {"https://127.0.0.1/app.git", "AGENTQ_ALLOW_PRIVATE_REPO_HOSTS"},
      {"http://bob:pw@127.0.0.1:1/app.git", "AGENTQ_ALLOW_PRIVATE_REPO_HOSTS"},
      {"https://localhost/app.git", "AGENTQ_ALLOW_PRIVATE_REPO_HOSTS"},
      {"https://LOCALHOST./app.git", "AGENTQ_ALLOW_PRIVATE_REPO_HOSTS"},
      {"https://api.localhost/app.git", "AGENTQ_ALLOW_PRIVATE_REPO_HOSTS"},
      {"http://169.254.169.254/latest/meta-data", "AGENTQ_ALLOW_PRIVATE_REPO_HOSTS"},
      {"https://10.1.2.3/app.git", "AGENTQ_ALLOW_PRIVATE_REPO_HOSTS"},
      {"https://172.20.0.5/app.git", "AGENTQ_ALLOW_PRIVATE_REPO_HOSTS"},
      {"https://192.168.1.1/app.git", "AGENTQ_ALLOW_PRIVATE_REPO_HOSTS"},
      {"https://100.64.0.1/app.git", "AGENTQ_ALLOW_PRIVATE_REPO_HOSTS"},
      {"https://0.0.0.0/app.git", "AGENTQ_ALLOW_PRIVATE_REPO_HOSTS"},
      {"https://2130706433/app.git", "AGENTQ_ALLOW_PRIVATE_REPO_HOSTS"},  // 127.0.0.1
      {"https://0x7f.1/app.git", "AGENTQ_ALLOW_PRIVATE_REPO_HOSTS"},
      {"https://[::1]:8443/app.git", "AGENTQ_ALLOW_PRIVATE_REPO_HOSTS"},
      {"https://[fe80::1%25eth0]/app.git", "AGENTQ_ALLOW_PRIVATE_REPO_HOSTS"},
      {"https://[fd00::5]/app.git", "AGENTQ_ALLOW_PRIVATE_REPO_HOSTS"},
      {"https://[::ffff:169.254.169.254]/x", "AGENTQ_ALLOW_PRIVATE_REPO_HOSTS"},
      {"git://127.0.0.1/app.git", "AGENTQ_ALLOW_PRIVATE_REPO_HOSTS"},
      {"ssh://git@[::1]/app.git", "AGENTQ_ALLOW_PRIVATE_REPO_HOSTS"},
      {"git@127.0.0.1:app.git", "AGENTQ_ALLOW_PRIVATE_REPO_HOSTS"},
      {"git@localhost:app.git", "AGENTQ_ALLOW_PRIVATE_REPO_HOSTS"},
  };
  for (const auto& r : table) {
    INFO(r.url);
    auto why = policy.refusal(r.url);
    if (r.names.empty()) {
      CHECK_FALSE(why);
    } else {
      REQUIRE(why);
      CHECK(why->find(r.names) != std::string::npos);
      CHECK(why->find("'url'") != std::string::npos);
    }
  }

  SECTION("no roots: every local path is refused") {
    repo_url_policy none;
    for (const auto& url : {repos + "/demo.git", std::string("file:///tmp/x.git")}) {
      auto why = none.refusal(url);
      REQUIRE(why);
      CHECK(why->find("accepts none") != std::string::npos);
    }
  }
  SECTION("private hosts are accepted once allowed") {
    repo_url_policy open = policy;
    open.allow_private_hosts = true;
    CHECK_FALSE(open.refusal("http://127.0.0.1:8080/app.git"));
    CHECK_FALSE(open.refusal("https://[::1]/app.git"));
    CHECK(open.refusal("/etc"));  // local paths still need a root
  }
}
