#pragma once
// RAII for libgit2 objects, libgit2's start-up, and one way to turn a libgit2
// error into an exception. Shared by the server (queue/git) and the runners
// (runner/git_workspace).

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <git2.h>

#include "gitcore/errors.hpp"

namespace agentq::git {

template <typename T, void (*Free)(T*)>
struct git_deleter {
  void operator()(T* p) const { Free(p); }
};

template <typename T, void (*Free)(T*)>
using handle = std::unique_ptr<T, git_deleter<T, Free>>;

using repository_ptr = handle<git_repository, git_repository_free>;
using remote_ptr = handle<git_remote, git_remote_free>;
using commit_ptr = handle<git_commit, git_commit_free>;
using tree_ptr = handle<git_tree, git_tree_free>;
using index_ptr = handle<git_index, git_index_free>;
using diff_ptr = handle<git_diff, git_diff_free>;
using diff_stats_ptr = handle<git_diff_stats, git_diff_stats_free>;
using patch_ptr = handle<git_patch, git_patch_free>;
using reference_ptr = handle<git_reference, git_reference_free>;
using reference_iterator_ptr = handle<git_reference_iterator, git_reference_iterator_free>;
using signature_ptr = handle<git_signature, git_signature_free>;
using revwalk_ptr = handle<git_revwalk, git_revwalk_free>;
using worktree_ptr = handle<git_worktree, git_worktree_free>;
using conflict_iterator_ptr = handle<git_index_conflict_iterator, git_index_conflict_iterator_free>;

// libgit2 wants git_libgit2_init() once before anything else; the count it
// keeps is never dropped, so the library stays up for the process's life
// (a shutdown at exit would race threads that still use it).
void ensure_libgit2();

// The last libgit2 error's message (credentials in URLs redacted).
std::string last_error();

// Throws failure("<what>: <libgit2's message>") when rc < 0.
inline void check(int rc, const std::string& what) {
  if (rc < 0) throw failure(what + ": " + last_error());
}

// A full 40-hex commit id; throws failure otherwise.
git_oid parse_oid(const std::string& hex);
std::string to_hex(const git_oid& oid);

// The commit `oid` names, or nullptr when the repository has no such commit.
commit_ptr find_commit(git_repository* repo, const git_oid& oid);
// The tree of commit `oid`; throws failure when it is missing.
tree_ptr commit_tree(git_repository* repo, const git_oid& oid);

// A git_strarray view of strings that outlive it.
class string_array {
 public:
  template <typename Strings>
  explicit string_array(const Strings& strings) {
    for (const auto& s : strings) m_pointers.push_back(const_cast<char*>(s.c_str()));
    m_array.strings = m_pointers.data();
    m_array.count = m_pointers.size();
  }
  git_strarray* get() { return &m_array; }

 private:
  std::vector<char*> m_pointers;
  git_strarray m_array{};
};

}  // namespace agentq::git
