#include "gitcore/handles.hpp"

#include "gitcore/urls.hpp"

namespace agentq::git {

void ensure_libgit2() {
  static const int initialised = [] {
    int rc = git_libgit2_init();
    if (rc < 0) throw failure("libgit2 could not start: " + last_error());
    return rc;
  }();
  (void)initialised;
}

std::string last_error() {
  const git_error* error = git_error_last();
  if (!error || !error->message) return "unknown libgit2 error";
  return redact_url(error->message);
}

git_oid parse_oid(const std::string& hex) {
  git_oid oid;
  if (hex.size() != GIT_OID_HEXSZ || git_oid_fromstr(&oid, hex.c_str()) < 0)
    throw failure("'" + hex + "' is not a full 40-hex commit id");
  return oid;
}

std::string to_hex(const git_oid& oid) {
  char buffer[GIT_OID_HEXSZ + 1];
  git_oid_tostr(buffer, sizeof buffer, &oid);
  return buffer;
}

commit_ptr find_commit(git_repository* repo, const git_oid& oid) {
  git_commit* raw = nullptr;
  if (git_commit_lookup(&raw, repo, &oid) < 0) return nullptr;
  return commit_ptr(raw);
}

tree_ptr commit_tree(git_repository* repo, const git_oid& oid) {
  auto commit = find_commit(repo, oid);
  if (!commit) throw failure("commit " + to_hex(oid) + " is not in the repository");
  git_tree* raw = nullptr;
  check(git_commit_tree(&raw, commit.get()), "cannot read the tree of " + to_hex(oid));
  return tree_ptr(raw);
}

}  // namespace agentq::git
