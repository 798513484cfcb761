#pragma once
// RAII for libgit2 objects and one way to turn a libgit2 error into an
// exception. Internal to queue/git: nothing outside includes libgit2.

#include <memory>
#include <stdexcept>
#include <string>

#include <git2.h>

namespace agentq::git::detail {

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
using patch_ptr = handle<git_patch, git_patch_free>;
using reference_ptr = handle<git_reference, git_reference_free>;
using signature_ptr = handle<git_signature, git_signature_free>;
using revwalk_ptr = handle<git_revwalk, git_revwalk_free>;
using conflict_iterator_ptr = handle<git_index_conflict_iterator, git_index_conflict_iterator_free>;

// libgit2 wants git_libgit2_init() once before anything else; the count it
// keeps is never dropped, so the library stays up for the process's life.
void ensure_libgit2();

// The last libgit2 error's message (credentials in URLs redacted).
std::string last_error();

// Throws std::runtime_error("<what>: <libgit2's message>") when rc < 0.
inline void check(int rc, const std::string& what) {
  if (rc < 0) throw std::runtime_error(what + ": " + last_error());
}

// "https://user:secret@host/x" -> "https://***@host/x": URLs in logs and
// errors never carry credentials.
std::string redact_url(const std::string& text);

git_oid parse_oid(const std::string& hex);
std::string to_hex(const git_oid& oid);

}  // namespace agentq::git::detail
