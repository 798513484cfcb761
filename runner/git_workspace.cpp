#include "runner/git_workspace.hpp"

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <vector>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <git2.h>
#include <spdlog/spdlog.h>

#include "core/requests.hpp"
#include "gitcore/credentials.hpp"
#include "gitcore/diff_stats.hpp"
#include "gitcore/handles.hpp"
#include "gitcore/urls.hpp"

namespace agentq::runner {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

using git::check;
using git::parse_oid;
using git::provide_credentials;
using git::redact_url;
using repo_ptr = git::repository_ptr;
using remote_ptr = git::remote_ptr;
using ref_ptr = git::reference_ptr;
using commit_ptr = git::commit_ptr;
using tree_ptr = git::tree_ptr;
using index_ptr = git::index_ptr;
using worktree_ptr = git::worktree_ptr;
using signature_ptr = git::signature_ptr;

std::string oid_hex(const git_oid& oid) { return git::to_hex(oid); }

// Serialises work on one mirror across threads and processes.
class mirror_lock {
 public:
  explicit mirror_lock(const fs::path& mirror) {
    fs::create_directories(mirror.parent_path());
    std::string path = mirror.string() + ".lock";
    m_fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (m_fd < 0) throw git_failure("cannot open lock file " + path);
    while (::flock(m_fd, LOCK_EX) != 0) {
      if (errno != EINTR) throw git_failure("cannot lock " + path);
    }
  }
  ~mirror_lock() {
    if (m_fd >= 0) ::close(m_fd);  // closing releases the lock
  }
  mirror_lock(const mirror_lock&) = delete;
  mirror_lock& operator=(const mirror_lock&) = delete;

 private:
  int m_fd = -1;
};

// Credentials: gitcore/credentials.hpp (from the environment, never logged).
using git::credential_state;

// --- mirror ---------------------------------------------------------------

fs::path mirror_path(const fs::path& workdir, const repo_info& repo) {
  return workdir / "mirrors" / (repo.name + ".git");
}

repo_ptr open_mirror(const fs::path& path) {
  git_repository* raw = nullptr;
  if (fs::exists(path / "HEAD")) {
    check(git_repository_open_bare(&raw, path.c_str()), "cannot open mirror " + path.string());
  } else {
    fs::create_directories(path.parent_path());
    check(git_repository_init(&raw, path.c_str(), 1), "cannot create mirror " + path.string());
  }
  repo_ptr repo(raw);
  // Work trees share the mirror's info/exclude: the runner's own files under
  // .agentq/ never show up as changes (for the agent's `git status` too).
  fs::path exclude = path / "info" / "exclude";
  fs::create_directories(exclude.parent_path());
  std::string text;
  {
    std::ifstream in(exclude);
    std::stringstream ss;
    ss << in.rdbuf();
    text = ss.str();
  }
  if (text.find("/.agentq/") == std::string::npos) {
    std::ofstream outf(exclude, std::ios::app);
    outf << "\n# agentq runner files\n/.agentq/\n";
  }
  return repo;
}

void fetch(git_repository* repo, const repo_info& info, const std::vector<std::string>& refspecs) {
  git_remote* raw = nullptr;
  check(git_remote_create_anonymous(&raw, repo, info.url.c_str()),
        "cannot use repository URL of '" + info.name + "'");
  remote_ptr remote(raw);
  std::vector<char*> specs;
  std::vector<std::string> copies = refspecs;
  for (auto& s : copies) specs.push_back(s.data());
  git_strarray array{specs.data(), specs.size()};
  credential_state creds;
  git_fetch_options opts = GIT_FETCH_OPTIONS_INIT;
  opts.callbacks.credentials = provide_credentials;
  opts.callbacks.payload = &creds;
  opts.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;
  if (git_remote_fetch(remote.get(), &array, &opts, "agentq: fetch") < 0)
    throw git_unreachable("cannot fetch from repository '" + info.name + "' (" +
                          redact_url(info.url) + "): " + git::last_error());
}

std::optional<git_oid> resolve(git_repository* repo, const std::string& refname) {
  git_oid oid;
  if (git_reference_name_to_id(&oid, repo, refname.c_str()) < 0) return std::nullopt;
  return oid;
}

int skip_runner_files(const char* path, const char* /*matched*/, void* /*payload*/) {
  std::string_view p(path);
  return (p == ".agentq" || p.starts_with(".agentq/")) ? 1 : 0;
}

void drop_worktree(git_repository* mirror, const std::string& name, const fs::path& dir) {
  git_worktree* raw = nullptr;
  if (git_worktree_lookup(&raw, mirror, name.c_str()) == 0) {
    worktree_ptr wt(raw);
    git_worktree_prune_options opts = GIT_WORKTREE_PRUNE_OPTIONS_INIT;
    opts.flags = GIT_WORKTREE_PRUNE_VALID | GIT_WORKTREE_PRUNE_LOCKED |
                 GIT_WORKTREE_PRUNE_WORKING_TREE;
    git_worktree_prune(wt.get(), &opts);
  }
  std::error_code ec;
  fs::remove_all(dir, ec);
}

void add_worktree(git_repository* mirror, const std::string& name, const fs::path& dir,
                  const std::string& branch) {
  drop_worktree(mirror, name, dir);  // leftovers of a runner that was killed
  fs::create_directories(dir.parent_path());
  git_reference* ref_raw = nullptr;
  check(git_reference_lookup(&ref_raw, mirror, ("refs/heads/" + branch).c_str()),
        "cannot find branch " + branch);
  ref_ptr ref(ref_raw);
  git_worktree_add_options opts = GIT_WORKTREE_ADD_OPTIONS_INIT;
  opts.ref = ref.get();
  opts.checkout_options.checkout_strategy = GIT_CHECKOUT_FORCE;
  git_worktree* wt_raw = nullptr;
  check(git_worktree_add(&wt_raw, mirror, name.c_str(), dir.c_str(), &opts),
        "cannot create work tree " + dir.string());
  worktree_ptr wt(wt_raw);
}

using status_list_ptr = std::unique_ptr<git_status_list, decltype(&git_status_list_free)>;

// Whether `dir` is a work tree of `mirror` (not something an agent put there
// or a tree of another mirror).
bool is_tree_of(git_repository* tree, const fs::path& mirror, const fs::path& dir) {
  std::error_code ec;
  const char* common = git_repository_commondir(tree);
  const char* workdir = git_repository_workdir(tree);
  if (!common || !workdir || git_repository_is_bare(tree)) return false;
  return fs::equivalent(common, mirror, ec) && fs::equivalent(workdir, dir, ec);
}

// Index flags that make libgit2 (and git) trust an entry without looking at
// the file: a tree carrying them is not reset in place.
bool has_trusting_entries(git_index* index) {
  const std::size_t count = git_index_entrycount(index);
  for (std::size_t i = 0; i < count; ++i) {
    const git_index_entry* entry = git_index_get_byindex(index, i);
    if ((entry->flags & GIT_INDEX_ENTRY_VALID) ||
        (entry->flags_extended & GIT_INDEX_ENTRY_SKIP_WORKTREE))
      return true;
  }
  return false;
}

// Nothing but the commit: no change staged or not, nothing untracked, nothing
// ignored (.agentq/ included), HEAD on `branch` at `commit`.
bool is_exactly(git_repository* tree, const std::string& branch, const git_oid& commit) {
  git_reference* head_raw = nullptr;
  if (git_repository_head(&head_raw, tree) < 0) return false;
  ref_ptr head(head_raw);
  if (git_reference_name(head.get()) != "refs/heads/" + branch) return false;
  const git_oid* at = git_reference_target(head.get());
  if (!at || !git_oid_equal(at, &commit)) return false;
  git_status_options opts = GIT_STATUS_OPTIONS_INIT;
  opts.show = GIT_STATUS_SHOW_INDEX_AND_WORKDIR;
  opts.flags = GIT_STATUS_OPT_INCLUDE_UNTRACKED | GIT_STATUS_OPT_INCLUDE_IGNORED |
               GIT_STATUS_OPT_RECURSE_UNTRACKED_DIRS | GIT_STATUS_OPT_RECURSE_IGNORED_DIRS;
  git_status_list* raw = nullptr;
  if (git_status_list_new(&raw, tree, &opts) < 0) return false;
  status_list_ptr list(raw, git_status_list_free);
  return git_status_list_entrycount(list.get()) == 0;
}

// Resets an earlier claim's work tree at `dir` to `commit` on `branch` (which
// exists in the mirror), as `git reset --hard && git clean -ffdx` would, and
// checks the result. False when the tree cannot be reused: the caller makes a
// fresh one. Only files that differ are written.
bool reset_tree(const fs::path& mirror_dir, const fs::path& dir,
                const std::string& branch, const git_oid& commit) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec) || !fs::exists(dir / ".git", ec)) return false;
  git_repository* raw = nullptr;
  if (git_repository_open_ext(&raw, dir.c_str(), GIT_REPOSITORY_OPEN_NO_SEARCH, nullptr) < 0)
    return false;
  repo_ptr tree(raw);
  if (!is_tree_of(tree.get(), mirror_dir, dir)) return false;
  git_index* index_raw = nullptr;
  if (git_repository_index(&index_raw, tree.get()) < 0) return false;
  index_ptr index(index_raw);
  if (git_index_read(index.get(), 1) < 0 || has_trusting_entries(index.get())) return false;
  git_repository_state_cleanup(tree.get());  // a merge or rebase the agent left half done

  git_commit* c_raw = nullptr;
  if (git_commit_lookup(&c_raw, tree.get(), &commit) < 0) return false;
  commit_ptr target(c_raw);
  git_checkout_options opts = GIT_CHECKOUT_OPTIONS_INIT;
  opts.checkout_strategy =
      GIT_CHECKOUT_FORCE | GIT_CHECKOUT_REMOVE_UNTRACKED | GIT_CHECKOUT_REMOVE_IGNORED;
  // What the tree was last checked out or committed as: the index (HEAD may
  // be a branch deleted since, or one the agent moved).
  opts.baseline_index = index.get();
  if (git_checkout_tree(tree.get(), reinterpret_cast<const git_object*>(target.get()), &opts) < 0)
    return false;
  if (git_repository_set_head(tree.get(), ("refs/heads/" + branch).c_str()) < 0) return false;
  return is_exactly(tree.get(), branch, commit);
}

// Deletes refs/heads/`name` of `repo` if it is there.
void delete_branch(git_repository* repo, const std::string& name) {
  git_reference* raw = nullptr;
  if (git_reference_lookup(&raw, repo, ("refs/heads/" + name).c_str()) != 0) return;
  ref_ptr ref(raw);
  git_reference_delete(ref.get());
}

void create_branch(git_repository* repo, const std::string& name, const git_oid& at, bool force) {
  git_commit* c_raw = nullptr;
  check(git_commit_lookup(&c_raw, repo, &at), "cannot find commit " + oid_hex(at));
  commit_ptr commit(c_raw);
  git_reference* ref_raw = nullptr;
  check(git_branch_create(&ref_raw, repo, name.c_str(), commit.get(), force ? 1 : 0),
        "cannot create branch " + name);
  ref_ptr ref(ref_raw);
}

using git::commit_tree;

std::string safe_component(const std::string& name) {
  if (!is_valid_name(name)) throw git_failure("'" + name + "' is not a usable repository name");
  return name;
}

}  // namespace

repo_info repo_info::from_json(const json& repo) {
  repo_info info;
  info.name = repo.value("name", "");
  info.url = repo.value("url", "");
  info.base_branch = repo.value("base_branch", "main");
  return info;
}

git_workspace::git_workspace(fs::path workdir) : m_workdir(fs::absolute(std::move(workdir))) {
  git::ensure_libgit2();
}

git_workspace::~git_workspace() {
  for (const auto& [dir, fd] : m_held) ::close(fd);
}

fs::path git_workspace::task_file(std::int64_t task_id, std::int64_t token) const {
  return m_workdir / "tasks" / (std::to_string(task_id) + "-" + std::to_string(token) + ".json");
}

checkout git_workspace::prepare_work(const repo_info& repo, std::int64_t task_id,
                                     std::int64_t token) {
  checkout co;
  co.repo = repo;
  co.mirror = mirror_path(m_workdir, repo);
  co.local_branch = claim_branch(task_id, token);
  safe_component(repo.name);  // refuses a name that is not one path component
  if (!is_valid_branch_name(repo.base_branch))
    throw git_failure("'" + repo.base_branch + "' is not a valid base branch");

  const std::string previous = take_tree(co, "w");
  try {
    mirror_lock lock(co.mirror);
    repo_ptr mirror = open_mirror(co.mirror);
    const std::string tracking = "refs/remotes/origin/" + repo.base_branch;
    fetch(mirror.get(), repo, {"+refs/heads/" + repo.base_branch + ":" + tracking});
    auto base = resolve(mirror.get(), tracking);
    if (!base)
      throw git_failure("repository '" + repo.name + "' (" + redact_url(repo.url) +
                        ") has no branch '" +
                        repo.base_branch + "'");
    co.base_commit = oid_hex(*base);
    co.start_commit = co.base_commit;
    place_tree(mirror.get(), co, *base, previous);
  } catch (...) {
    release_tree(co);
    throw;
  }
  return co;
}

std::string git_workspace::take_tree(checkout& co, const std::string& kind) {
  const fs::path trees = m_workdir / "checkouts" / safe_component(co.repo.name);
  fs::create_directories(trees);
  for (int n = 0;; ++n) {
    const std::string name = kind + "-" + std::to_string(n);
    const std::string lock_path = (trees / (name + ".lock")).string();
    int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) throw git_failure("cannot open lock file " + lock_path);
    int rc;
    do rc = ::flock(fd, LOCK_EX | LOCK_NB);
    while (rc != 0 && errno == EINTR);
    if (rc != 0) {  // another claim of this or another runner uses it
      const int error = errno;
      ::close(fd);
      if (error != EWOULDBLOCK) throw git_failure("cannot lock " + lock_path);
      continue;
    }
    co.worktree_name = name;
    co.dir = trees / name;
    // The lock file names the claim branch of the tree's last user: a
    // runner killed before remove() leaves it in the mirror, and the
    // branch goes when the tree is reused.
    char text[512] = {};
    const ssize_t got = ::pread(fd, text, sizeof text - 1, 0);
    std::string previous = got > 0 ? std::string(text, static_cast<std::size_t>(got)) : "";
    const std::string mine = co.local_branch;
    if (::ftruncate(fd, 0) != 0 ||
        ::pwrite(fd, mine.data(), mine.size(), 0) != static_cast<ssize_t>(mine.size()))
      spdlog::warn("event=lock_note_failed lock={}", lock_path);
    std::lock_guard guard(m_held_mutex);
    m_held[co.dir.string()] = fd;
    return previous;
  }
}

void git_workspace::release_tree(const checkout& co) noexcept {
  std::lock_guard guard(m_held_mutex);
  auto held = m_held.find(co.dir.string());
  if (held == m_held.end()) return;
  ::close(held->second);  // closing releases the lock
  m_held.erase(held);
}

void git_workspace::place_tree(git_repository* mirror, checkout& co, const git_oid& commit,
                               const std::string& previous) {
  // It may be HEAD of the tree: reset_tree moves HEAD.
  if (previous != co.local_branch &&
      (previous.starts_with("agentq/") || previous.starts_with("agentq-review/")))
    delete_branch(mirror, previous);
  create_branch(mirror, co.local_branch, commit, true);
  co.reused = reset_tree(co.mirror, co.dir, co.local_branch, commit);
  if (!co.reused) {
    // First use, or a tree that cannot be trusted: a fresh checkout.
    add_worktree(mirror, co.worktree_name, co.dir, co.local_branch);
  }
  spdlog::debug("event=work_tree dir={} reused={}", co.dir.string(), co.reused);
}

commit_outcome git_workspace::commit_all(const checkout& co, const std::string& author_name,
                                         const std::string& author_email,
                                         const std::string& message) {
  git_repository* raw = nullptr;
  check(git_repository_open(&raw, co.dir.c_str()), "cannot open checkout " + co.dir.string());
  repo_ptr repo(raw);

  git_index* idx_raw = nullptr;
  check(git_repository_index(&idx_raw, repo.get()), "cannot read the index");
  index_ptr index(idx_raw);
  check(git_index_read(index.get(), 1), "cannot read the index");
  check(git_index_add_all(index.get(), nullptr, GIT_INDEX_ADD_DEFAULT, skip_runner_files, nullptr),
        "cannot stage new and changed files");
  check(git_index_update_all(index.get(), nullptr, skip_runner_files, nullptr),
        "cannot stage deleted files");
  check(git_index_write(index.get()), "cannot write the index");
  git_oid tree_id;
  check(git_index_write_tree(&tree_id, index.get()), "cannot write the tree");

  // The command may have committed (Aider does) or even switched branches:
  // whatever HEAD is now is where the work continues.
  git_oid head_id;
  check(git_reference_name_to_id(&head_id, repo.get(), "HEAD"), "cannot resolve HEAD");
  tree_ptr head_tree = commit_tree(repo.get(), head_id);
  if (!git_oid_equal(&tree_id, git_tree_id(head_tree.get()))) {
    git_signature* sig_raw = nullptr;
    check(git_signature_now(&sig_raw, author_name.c_str(), author_email.c_str()),
          "cannot make a signature for '" + author_name + "'");
    signature_ptr sig(sig_raw);
    git_tree* t_raw = nullptr;
    check(git_tree_lookup(&t_raw, repo.get(), &tree_id), "cannot read the new tree");
    tree_ptr tree(t_raw);
    git_commit* parent_raw = nullptr;
    check(git_commit_lookup(&parent_raw, repo.get(), &head_id), "cannot read HEAD");
    commit_ptr parent(parent_raw);
    const git_commit* parents[] = {parent.get()};
    git_oid new_id;
    check(git_commit_create(&new_id, repo.get(), nullptr, sig.get(), sig.get(), "UTF-8",
                            message.c_str(), tree.get(), 1, parents),
          "cannot commit");
    head_id = new_id;
  }
  // The claim's branch is what gets pushed: point it at the result, whatever
  // branch the command left checked out.
  git_reference* ref_raw = nullptr;
  check(git_reference_create(&ref_raw, repo.get(), ("refs/heads/" + co.local_branch).c_str(),
                             &head_id, 1, "agentq: work of the claim"),
        "cannot update branch " + co.local_branch);
  ref_ptr ref(ref_raw);

  tree_ptr final_tree = commit_tree(repo.get(), head_id);
  git_oid base_id = parse_oid(co.base_commit);
  tree_ptr base_tree = commit_tree(repo.get(), base_id);
  commit_outcome out;
  out.changed = !git_oid_equal(git_tree_id(final_tree.get()), git_tree_id(base_tree.get()));
  if (out.changed) out.commit = oid_hex(head_id);
  return out;
}

void git_workspace::push_branch(const checkout& co) {
  mirror_lock lock(co.mirror);
  repo_ptr mirror = open_mirror(co.mirror);
  git_remote* raw = nullptr;
  check(git_remote_create_anonymous(&raw, mirror.get(), co.repo.url.c_str()),
        "cannot use repository URL of '" + co.repo.name + "'");
  remote_ptr remote(raw);
  // No '+': never forced. Source and destination are the one claim branch.
  std::string refname = "refs/heads/" + co.local_branch;
  std::string spec = refname + ":" + refname;
  char* specs[] = {spec.data()};
  git_strarray array{specs, 1};

  struct push_state {
    credential_state creds;
    std::string refused;
  } state;
  git_push_options opts = GIT_PUSH_OPTIONS_INIT;
  opts.callbacks.credentials = [](git_credential** out, const char* url, const char* user,
                                  unsigned int allowed, void* payload) {
    return provide_credentials(out, url, user, allowed, &static_cast<push_state*>(payload)->creds);
  };
  opts.callbacks.push_update_reference = [](const char* ref, const char* status, void* payload) {
    if (status) static_cast<push_state*>(payload)->refused = std::string(ref) + ": " + status;
    return 0;
  };
  opts.callbacks.payload = &state;
  if (git_remote_push(remote.get(), &array, &opts) < 0)
    throw git_unreachable("cannot push " + refname + " to repository '" + co.repo.name + "' (" +
                          redact_url(co.repo.url) + "): " + git::last_error());
  if (!state.refused.empty())
    throw git_failure("repository '" + co.repo.name + "' refused the push of " + state.refused);
}

checkout git_workspace::prepare_review(const repo_info& repo, std::int64_t task_id,
                                       std::int64_t token, const std::string& branch,
                                       const std::string& commit) {
  checkout co;
  co.repo = repo;
  co.mirror = mirror_path(m_workdir, repo);
  co.local_branch = "agentq-review/" + std::to_string(task_id) + "/" + std::to_string(token);
  safe_component(repo.name);  // refuses a name that is not one path component
  if (!is_valid_branch_name(branch)) throw git_failure("'" + branch + "' is not a valid branch");
  if (!is_valid_branch_name(repo.base_branch))
    throw git_failure("'" + repo.base_branch + "' is not a valid base branch");
  git_oid wanted = parse_oid(commit);

  const std::string previous = take_tree(co, "r");
  try {
    mirror_lock lock(co.mirror);
    repo_ptr mirror = open_mirror(co.mirror);
    const std::string base_tracking = "refs/remotes/origin/" + repo.base_branch;
    const std::string tracking = "refs/remotes/origin/" + branch;
    fetch(mirror.get(), repo,
          {"+refs/heads/" + repo.base_branch + ":" + base_tracking,
           "+refs/heads/" + branch + ":" + tracking});
    auto tip = resolve(mirror.get(), tracking);
    if (!tip)
      throw git_failure("repository '" + repo.name + "' has no branch '" + branch + "'");
    if (!git_oid_equal(&*tip, &wanted) &&
        git_graph_descendant_of(mirror.get(), &*tip, &wanted) != 1)
      throw git_failure("branch '" + branch + "' does not hold the submitted commit " + commit);
    if (auto base = resolve(mirror.get(), base_tracking)) co.base_commit = oid_hex(*base);
    co.start_commit = commit;
    place_tree(mirror.get(), co, wanted, previous);
  } catch (...) {
    release_tree(co);
    throw;
  }
  return co;
}

json git_workspace::diff_stats(const checkout& co) {
  git_repository* raw = nullptr;
  check(git_repository_open_bare(&raw, co.mirror.c_str()), "cannot open mirror");
  repo_ptr mirror(raw);
  std::optional<git_oid> base;
  if (!co.base_commit.empty()) base = parse_oid(co.base_commit);
  return git::diff_stats(mirror.get(), base, parse_oid(co.start_commit));
}

void git_workspace::remove(const checkout& co) noexcept {
  try {
    mirror_lock lock(co.mirror);
    git_repository* raw = nullptr;
    if (git_repository_open_bare(&raw, co.mirror.c_str()) < 0) {
      std::error_code ec;
      fs::remove_all(co.dir, ec);
    } else {
      repo_ptr mirror(raw);
      // The tree stays for the next claim (which resets it). Its HEAD leaves
      // the branch, which goes: detached at the same commit.
      git_repository* tree_raw = nullptr;
      if (git_repository_open_ext(&tree_raw, co.dir.c_str(), GIT_REPOSITORY_OPEN_NO_SEARCH,
                                  nullptr) == 0) {
        repo_ptr tree(tree_raw);
        if (git_repository_detach_head(tree.get()) < 0)
          drop_worktree(mirror.get(), co.worktree_name, co.dir);
      }
      delete_branch(mirror.get(), co.local_branch);
    }
  } catch (const std::exception& e) {
    spdlog::warn("event=cleanup_failed dir={} error=\"{}\"", co.dir.string(), e.what());
  }
  release_tree(co);
}

}  // namespace agentq::runner
