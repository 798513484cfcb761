#include "git/repo_gateway.hpp"

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <set>
#include <stdexcept>

#include <spdlog/spdlog.h>

#include "core/requests.hpp"
#include "git/git_handles.hpp"

namespace agentq::git {
namespace {

using namespace detail;
using json = nlohmann::json;

// Calls on one mirror take turns within the process: libgit2 repositories
// are not safe to share between threads, and two fetches updating the same
// tracking ref would fail on its lock file. One mutex per mirror path, kept
// for the life of the process (there are a handful of repositories).
std::mutex& mirror_lock(const std::filesystem::path& path) {
  static std::mutex registry_mutex;
  static std::map<std::string, std::unique_ptr<std::mutex>> locks;
  std::lock_guard guard(registry_mutex);
  auto& lock = locks[path.lexically_normal().string()];
  if (!lock) lock = std::make_unique<std::mutex>();
  return *lock;
}

// The mirror, opened (or created on first use) for one call.
repository_ptr open_mirror(const std::filesystem::path& path) {
  ensure_libgit2();
  git_repository* raw = nullptr;
  if (git_repository_open_bare(&raw, path.c_str()) == 0) return repository_ptr(raw);
  std::error_code error;
  std::filesystem::create_directories(path.parent_path(), error);
  check(git_repository_init(&raw, path.c_str(), 1),
        "cannot create the mirror " + path.string() + " (is the cache directory writable?)");
  return repository_ptr(raw);
}

// Credentials for https and ssh remotes, asked once per connection: a second
// request means the first was refused, and asking again would loop.
struct credential_state {
  int asked = 0;
};

int provide_credentials(git_credential** out, const char* /*url*/, const char* username_from_url,
                        unsigned int allowed, void* payload) {
  auto* state = static_cast<credential_state*>(payload);
  if (++state->asked > 1) {
    git_error_set_str(GIT_ERROR_NET,
                      "the repository refused this server's credentials (ssh agent keys, or "
                      "AGENTQ_GIT_USERNAME / AGENTQ_GIT_PASSWORD for https)");
    return GIT_EUSER;
  }
  if (allowed & GIT_CREDENTIAL_SSH_KEY)
    return git_credential_ssh_key_from_agent(out, username_from_url ? username_from_url : "git");
  if (allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT) {
    const char* password = std::getenv("AGENTQ_GIT_PASSWORD");
    if (password) {
      const char* user = std::getenv("AGENTQ_GIT_USERNAME");
      if (!user) user = username_from_url ? username_from_url : "agentq";
      return git_credential_userpass_plaintext_new(out, user, password);
    }
  }
  return GIT_PASSTHROUGH;  // libgit2 then says that authentication is required
}

remote_ptr anonymous_remote(git_repository* repo, const repo_ref& ref) {
  git_remote* raw = nullptr;
  check(git_remote_create_anonymous(&raw, repo, ref.url.c_str()),
        "repository '" + ref.name + "' has an unusable URL " + redact_url(ref.url) +
            " (fix it in the repos table)");
  return remote_ptr(raw);
}

// A git_strarray view of strings that outlive it.
struct string_array {
  explicit string_array(const std::vector<std::string>& strings) {
    for (const auto& s : strings) m_pointers.push_back(const_cast<char*>(s.c_str()));
    m_array.strings = m_pointers.data();
    m_array.count = m_pointers.size();
  }
  git_strarray* get() { return &m_array; }

 private:
  std::vector<char*> m_pointers;
  git_strarray m_array{};
};

void require_branch_name(const std::string& branch) {
  if (!is_valid_branch_name(branch))
    throw std::runtime_error("'" + branch + "' is not a valid branch name");
}

std::map<std::string, std::optional<std::string>> fetch_into(
    git_repository* repo, const repo_ref& ref, const std::vector<std::string>& branches) {
  std::vector<std::string> refspecs;
  std::map<std::string, std::optional<std::string>> tips;
  for (const auto& branch : branches) {
    require_branch_name(branch);
    if (tips.emplace(branch, std::nullopt).second)
      // Forced, because a tracking ref only mirrors the remote: whatever the
      // remote holds now is what it holds. Decisions read the remote's
      // answer (git_remote_ls below) and check ancestry themselves.
      refspecs.push_back("+refs/heads/" + branch + ":refs/remotes/origin/" + branch);
  }
  auto remote = anonymous_remote(repo, ref);
  credential_state credentials;
  git_fetch_options options = GIT_FETCH_OPTIONS_INIT;
  options.callbacks.credentials = provide_credentials;
  options.callbacks.payload = &credentials;
  options.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;
  options.prune = GIT_FETCH_NO_PRUNE;
  options.update_fetchhead = 0;
  string_array specs(refspecs);
  check(git_remote_fetch(remote.get(), specs.get(), &options, "agentq: fetch"),
        "cannot fetch from repository '" + ref.name + "' at " + redact_url(ref.url) +
            " (check that it exists and that this server may read it)");

  // The remote's own answer, read at connection time, is what says whether a
  // branch exists; a stale tracking ref from an earlier fetch never does.
  const git_remote_head** heads = nullptr;
  std::size_t count = 0;
  check(git_remote_ls(&heads, &count, remote.get()),
        "cannot list the branches of repository '" + ref.name + "'");
  for (std::size_t i = 0; i < count; ++i) {
    std::string name = heads[i]->name;
    if (!name.starts_with("refs/heads/")) continue;
    auto found = tips.find(name.substr(std::string("refs/heads/").size()));
    if (found != tips.end()) found->second = to_hex(heads[i]->oid);
  }
  spdlog::debug("fetched repo={} branches={}", ref.name, refspecs.size());
  return tips;
}

commit_ptr find_commit(git_repository* repo, const std::string& hex) {
  git_oid oid = parse_oid(hex);
  git_commit* raw = nullptr;
  if (git_commit_lookup(&raw, repo, &oid) < 0) return nullptr;
  return commit_ptr(raw);
}

commit_ptr require_commit(git_repository* repo, const repo_ref& ref, const std::string& hex) {
  auto commit = find_commit(repo, hex);
  if (!commit)
    throw std::runtime_error("commit " + hex + " is not in repository '" + ref.name +
                             "': push it to a branch and name that branch");
  return commit;
}

bool contains_in(git_repository* repo, const git_oid& tip, const git_oid& commit) {
  if (git_oid_equal(&tip, &commit)) return true;
  int rc = git_graph_descendant_of(repo, &tip, &commit);
  check(rc, "cannot walk the history");
  return rc == 1;
}

tree_ptr tree_of(git_commit* commit) {
  git_tree* raw = nullptr;
  check(git_commit_tree(&raw, commit), "cannot read the tree of a commit");
  return tree_ptr(raw);
}

}  // namespace

repo_gateway::repo_gateway(std::filesystem::path cache_dir) : m_cache_dir(std::move(cache_dir)) {
  ensure_libgit2();
}

std::filesystem::path repo_gateway::mirror_path(const repo_ref& repo) const {
  // The repos table allows only such names; checked again because this one
  // becomes a directory.
  if (!is_valid_name(repo.name))
    throw std::runtime_error("repository name '" + repo.name +
                             "' is not safe as a directory name (letters, digits, . _ -)");
  return m_cache_dir / repo.name;
}

std::map<std::string, std::optional<std::string>> repo_gateway::fetch(
    const repo_ref& repo, const std::vector<std::string>& branches) {
  auto path = mirror_path(repo);
  std::lock_guard lock(mirror_lock(path));
  auto mirror = open_mirror(path);
  return fetch_into(mirror.get(), repo, branches);
}

bool repo_gateway::branch_tip_is(const repo_ref& repo, const std::string& branch,
                                 const std::string& commit) {
  auto tips = fetch(repo, {branch});
  const auto& tip = tips.at(branch);
  return tip && *tip == commit;
}

json repo_gateway::diff_stats(const repo_ref& repo, const std::string& base_branch,
                              const std::string& commit,
                              const std::optional<std::string>& branch) {
  auto path = mirror_path(repo);
  std::lock_guard lock(mirror_lock(path));
  auto mirror = open_mirror(path);
  std::vector<std::string> branches{base_branch};
  if (branch) branches.push_back(*branch);
  auto tips = fetch_into(mirror.get(), repo, branches);
  if (!tips.at(base_branch))
    throw std::runtime_error("repository '" + repo.name + "' has no branch '" + base_branch + "'");

  auto head = require_commit(mirror.get(), repo, commit);
  auto base = require_commit(mirror.get(), repo, *tips.at(base_branch));
  // Against the merge base: what the commit brings, not what the base
  // gained since the worker started.
  tree_ptr old_tree;
  git_oid merge_base;
  int rc = git_merge_base(&merge_base, mirror.get(), git_commit_id(base.get()),
                          git_commit_id(head.get()));
  if (rc == 0) {
    auto ancestor = require_commit(mirror.get(), repo, to_hex(merge_base));
    old_tree = tree_of(ancestor.get());
  } else if (rc != GIT_ENOTFOUND) {
    check(rc, "cannot find the merge base of " + commit + " and " + base_branch);
  }  // no common history: everything the commit holds is new
  auto new_tree = tree_of(head.get());

  git_diff* raw_diff = nullptr;
  check(git_diff_tree_to_tree(&raw_diff, mirror.get(), old_tree.get(), new_tree.get(), nullptr),
        "cannot diff " + commit);
  diff_ptr diff(raw_diff);
  git_diff_find_options find = GIT_DIFF_FIND_OPTIONS_INIT;
  find.flags = GIT_DIFF_FIND_RENAMES;
  check(git_diff_find_similar(diff.get(), &find), "cannot find renames in " + commit);

  json files = json::array();
  std::size_t insertions = 0, deletions = 0;
  std::size_t count = git_diff_num_deltas(diff.get());
  for (std::size_t i = 0; i < count; ++i) {
    const git_diff_delta* delta = git_diff_get_delta(diff.get(), i);
    git_patch* raw_patch = nullptr;
    check(git_patch_from_diff(&raw_patch, diff.get(), i), "cannot diff " + commit);
    patch_ptr patch(raw_patch);
    std::size_t added = 0, removed = 0;
    if (patch) check(git_patch_line_stats(nullptr, &added, &removed, patch.get()), "diff stats");
    const char* file = delta->status == GIT_DELTA_DELETED ? delta->old_file.path
                                                          : delta->new_file.path;
    files.push_back({{"path", file}, {"insertions", added}, {"deletions", removed}});
    insertions += added;
    deletions += removed;
  }
  std::sort(files.begin(), files.end(),
            [](const json& a, const json& b) { return a["path"] < b["path"]; });
  return {{"files_changed", count},
          {"insertions", insertions},
          {"deletions", deletions},
          {"files", files}};
}

bool repo_gateway::has_commit(const repo_ref& repo, const std::string& commit) {
  auto path = mirror_path(repo);
  std::lock_guard lock(mirror_lock(path));
  auto mirror = open_mirror(path);
  return find_commit(mirror.get(), commit) != nullptr;
}

bool repo_gateway::contains(const repo_ref& repo, const std::string& tip,
                            const std::string& commit) {
  auto path = mirror_path(repo);
  std::lock_guard lock(mirror_lock(path));
  auto mirror = open_mirror(path);
  auto tip_commit = require_commit(mirror.get(), repo, tip);
  auto the_commit = require_commit(mirror.get(), repo, commit);
  return contains_in(mirror.get(), *git_commit_id(tip_commit.get()),
                     *git_commit_id(the_commit.get()));
}

std::string repo_gateway::introducing_commit(const repo_ref& repo, const std::string& tip,
                                             const std::string& commit) {
  auto path = mirror_path(repo);
  std::lock_guard lock(mirror_lock(path));
  auto mirror = open_mirror(path);
  git_oid wanted = parse_oid(commit);
  auto current = require_commit(mirror.get(), repo, tip);
  if (!contains_in(mirror.get(), *git_commit_id(current.get()), wanted))
    throw std::runtime_error(tip + " does not contain " + commit);
  // Walk down the first-parent chain while the parent still contains the
  // commit; the last one that does brought it in.
  while (!git_oid_equal(git_commit_id(current.get()), &wanted) &&
         git_commit_parentcount(current.get()) > 0) {
    git_commit* raw_parent = nullptr;
    check(git_commit_parent(&raw_parent, current.get(), 0), "cannot read a parent commit");
    commit_ptr parent(raw_parent);
    if (!contains_in(mirror.get(), *git_commit_id(parent.get()), wanted)) break;
    current = std::move(parent);
  }
  return to_hex(*git_commit_id(current.get()));
}

merge_made repo_gateway::merge(const repo_ref& repo, const std::string& ours,
                               const std::string& theirs, const std::string& message,
                               const author& by) {
  auto path = mirror_path(repo);
  std::lock_guard lock(mirror_lock(path));
  auto mirror = open_mirror(path);
  auto our_commit = require_commit(mirror.get(), repo, ours);
  auto their_commit = require_commit(mirror.get(), repo, theirs);

  git_index* raw_index = nullptr;
  git_merge_options options = GIT_MERGE_OPTIONS_INIT;
  check(git_merge_commits(&raw_index, mirror.get(), our_commit.get(), their_commit.get(),
                          &options),
        "cannot merge " + theirs + " into " + ours);
  index_ptr index(raw_index);

  merge_made made;
  if (git_index_has_conflicts(index.get())) {
    git_index_conflict_iterator* raw_iterator = nullptr;
    check(git_index_conflict_iterator_new(&raw_iterator, index.get()), "cannot list conflicts");
    conflict_iterator_ptr iterator(raw_iterator);
    std::set<std::string> paths;
    const git_index_entry *ancestor = nullptr, *our = nullptr, *their = nullptr;
    while (git_index_conflict_next(&ancestor, &our, &their, iterator.get()) == 0) {
      for (const git_index_entry* entry : {our, their, ancestor})
        if (entry) paths.insert(entry->path);
    }
    made.conflicts.assign(paths.begin(), paths.end());
    return made;
  }

  git_oid tree_id;
  check(git_index_write_tree_to(&tree_id, index.get(), mirror.get()),
        "cannot write the merged tree");
  git_tree* raw_tree = nullptr;
  check(git_tree_lookup(&raw_tree, mirror.get(), &tree_id), "cannot read the merged tree");
  tree_ptr tree(raw_tree);
  git_signature* raw_signature = nullptr;
  check(git_signature_now(&raw_signature, by.name.c_str(), by.email.c_str()),
        "the merge author '" + by.name + " <" + by.email + ">' is not a valid signature");
  signature_ptr signature(raw_signature);
  const git_commit* parents[] = {our_commit.get(), their_commit.get()};
  git_oid merge_id;
  check(git_commit_create(&merge_id, mirror.get(), nullptr, signature.get(), signature.get(),
                          nullptr, message.c_str(), tree.get(), 2, parents),
        "cannot write the merge commit");
  made.commit = to_hex(merge_id);
  return made;
}

push_result repo_gateway::push_branch(const repo_ref& repo, const std::string& branch,
                                      const std::string& commit) {
  require_branch_name(branch);
  auto path = mirror_path(repo);
  std::lock_guard lock(mirror_lock(path));
  auto mirror = open_mirror(path);
  auto to_push = require_commit(mirror.get(), repo, commit);

  // A push names a local ref, so the commit gets a scratch ref of the
  // mirror's own; the refspec has no '+': the remote takes it only as a
  // fast-forward of what it holds.
  const std::string scratch = "refs/agentq/push/" + branch;
  git_reference* raw_ref = nullptr;
  check(git_reference_create(&raw_ref, mirror.get(), scratch.c_str(),
                             git_commit_id(to_push.get()), 1, "agentq: push"),
        "cannot prepare the push of " + commit);
  reference_ptr scratch_ref(raw_ref);

  auto remote = anonymous_remote(mirror.get(), repo);
  struct status {
    credential_state credentials;
    std::string refused;  // the remote's reason, if it refused the update
  } state;
  git_push_options options = GIT_PUSH_OPTIONS_INIT;
  options.callbacks.credentials = [](git_credential** out, const char* url, const char* user,
                                     unsigned int allowed, void* payload) {
    return provide_credentials(out, url, user, allowed,
                               &static_cast<struct status*>(payload)->credentials);
  };
  options.callbacks.push_update_reference = [](const char* /*ref*/, const char* message,
                                               void* payload) {
    if (message) static_cast<struct status*>(payload)->refused = message;
    return 0;
  };
  options.callbacks.payload = &state;
  std::vector<std::string> refspecs{scratch + ":refs/heads/" + branch};
  string_array specs(refspecs);
  int rc = git_remote_push(remote.get(), specs.get(), &options);
  git_reference_delete(scratch_ref.get());  // tidy only; a leftover is harmless

  push_result result;
  if (rc == GIT_ENONFASTFORWARD) {
    result.message = last_error();
    return result;
  }
  check(rc, "cannot push to repository '" + repo.name + "' at " + redact_url(repo.url) +
                " (check that this server may write to it)");
  if (!state.refused.empty()) {
    result.message = state.refused;
    return result;
  }
  result.pushed = true;
  return result;
}

}  // namespace agentq::git
