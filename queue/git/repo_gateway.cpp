#include "git/repo_gateway.hpp"

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <regex>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <spdlog/spdlog.h>

#include "core/requests.hpp"
#include "git/git_process.hpp"
#include "gitcore/credentials.hpp"
#include "gitcore/diff_stats.hpp"
#include "gitcore/handles.hpp"
#include "gitcore/urls.hpp"

namespace agentq::git {
namespace {

using json = nlohmann::json;
using clock = std::chrono::steady_clock;

// Calls on one mirror take turns within the process: libgit2 repositories
// are not safe to share between threads, two fetches updating the same
// tracking ref would fail on its lock file, and the lock files a killed git
// leaves behind may be removed only while nothing else runs there. One mutex
// per mirror path, kept for the life of the process (there are a handful of
// repositories). Timed: the wait counts against the caller's deadline.
std::timed_mutex& mirror_mutex(const std::filesystem::path& path) {
  static std::mutex registry_mutex;
  static std::map<std::string, std::unique_ptr<std::timed_mutex>> locks;
  std::lock_guard guard(registry_mutex);
  auto& lock = locks[path.lexically_normal().string()];
  if (!lock) lock = std::make_unique<std::timed_mutex>();
  return *lock;
}

std::string seconds_text(std::chrono::milliseconds timeout) {
  std::ostringstream text;
  text << static_cast<double>(timeout.count()) / 1000.0 << " s";
  return text.str();
}

[[noreturn]] void throw_timeout(const repo_ref& ref, const std::string& doing,
                                std::chrono::milliseconds limit) {
  throw git::timeout("repository '" + ref.name + "' (" + redact_url(ref.url) + ") did not answer " +
                doing + " within the git deadline (" + seconds_text(limit) +
                ", --git-timeout-s); retry later");
}

// Holds a mirror's lock until the deadline at the latest.
class mirror_guard {
 public:
  mirror_guard(const std::filesystem::path& path, clock::time_point deadline, const repo_ref& ref,
               std::chrono::milliseconds limit)
      : m_mutex(mirror_mutex(path)) {
    if (!m_mutex.try_lock_until(deadline))
      throw_timeout(ref, "(its mirror was busy with another git operation)", limit);
  }
  ~mirror_guard() { m_mutex.unlock(); }
  mirror_guard(const mirror_guard&) = delete;
  mirror_guard& operator=(const mirror_guard&) = delete;

 private:
  std::timed_mutex& m_mutex;
};

// The last line of git's stderr that says something (its "fatal: ..."),
// credentials redacted.
std::string git_complaint(const git_run& run) {
  std::istringstream lines(run.err);
  std::string line, last;
  while (std::getline(lines, line)) {
    if (line.find_first_not_of(" \t\r") != std::string::npos) last = line;
  }
  if (last.empty()) last = "git exited with status " + std::to_string(run.exit_code);
  return redact_url(last);
}

// A local remote's repository, opened in place for reading (and, for
// delete_task_branches, deleting its own refs).
repository_ptr open_local(const repo_ref& ref, const std::filesystem::path& path) {
  ensure_libgit2();
  git_repository* raw = nullptr;
  check(git_repository_open_ext(&raw, path.c_str(), GIT_REPOSITORY_OPEN_NO_SEARCH, nullptr),
        "cannot read repository '" + ref.name + "' at " + redact_url(ref.url) +
            " (check that it exists and that this server may read it)");
  return repository_ptr(raw);
}

// The mirror, opened (or created on first use) for one call.
// Local remotes stay open between calls, a few handles per path (a libgit2
// repository serves one thread at a time): opening one costs more than the
// ref lookup itself, and an open one keeps packed-refs parsed until the file
// changes (libgit2 compares its stamp on every lookup; loose refs are read
// from disk each time), so a check does not re-read 10,000 branches.
class local_pool {
 public:
  repository_ptr take(const repo_ref& ref, const std::filesystem::path& path) {
    {
      std::lock_guard lock(m_mutex);
      auto& idle = m_idle[path.lexically_normal().string()];
      if (!idle.empty()) {
        auto repo = std::move(idle.back());
        idle.pop_back();
        return repo;
      }
    }
    return open_local(ref, path);
  }
  void give_back(const std::filesystem::path& path, repository_ptr repo) {
    std::lock_guard lock(m_mutex);
    auto& idle = m_idle[path.lexically_normal().string()];
    if (idle.size() < max_idle) idle.push_back(std::move(repo));
  }

 private:
  static constexpr std::size_t max_idle = 8;
  std::mutex m_mutex;
  std::map<std::string, std::vector<repository_ptr>> m_idle;
};

local_pool& local_repositories() {
  static local_pool pool;
  return pool;
}

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

// The mirror of `ref`. A local remote's object database is added as an
// alternate (as `git clone --shared` does): the mirror reads every object the
// remote holds in place, including a submitted commit whose branch was
// rewritten since the submit check (which reads one ref and fetches nothing
// from a local remote). Network remotes' objects come by fetch only.
repository_ptr open_mirror(const std::filesystem::path& path, const repo_ref& ref) {
  auto mirror = open_mirror(path);
  auto local = local_path(ref.url);
  if (!local) return mirror;
  git_repository* raw_remote = nullptr;
  if (git_repository_open_ext(&raw_remote, local->c_str(), GIT_REPOSITORY_OPEN_NO_SEARCH,
                              nullptr) < 0)
    return mirror;  // the fetch says what is wrong with it
  repository_ptr remote(raw_remote);
  git_odb* raw_odb = nullptr;
  check(git_repository_odb(&raw_odb, mirror.get()), "cannot open the mirror's objects");
  std::unique_ptr<git_odb, decltype(&git_odb_free)> odb(raw_odb, git_odb_free);
  auto objects = std::filesystem::path(git_repository_path(remote.get())) / "objects";
  check(git_odb_add_disk_alternate(odb.get(), objects.c_str()),
        "cannot read the objects of repository '" + ref.name + "'");
  return mirror;
}

remote_ptr anonymous_remote(git_repository* repo, const repo_ref& ref) {
  git_remote* raw = nullptr;
  check(git_remote_create_anonymous(&raw, repo, ref.url.c_str()),
        "repository '" + ref.name + "' has an unusable URL " + redact_url(ref.url) +
            " (fix it in the repos table)");
  return remote_ptr(raw);
}

void require_branch_name(const std::string& branch) {
  if (!is_valid_branch_name(branch))
    throw failure("'" + branch + "' is not a valid branch name");
}

commit_ptr find_commit(git_repository* repo, const std::string& hex) {
  return git::find_commit(repo, parse_oid(hex));
}

commit_ptr require_commit(git_repository* repo, const repo_ref& ref, const std::string& hex) {
  auto commit = find_commit(repo, hex);
  if (!commit)
    throw failure("commit " + hex + " is not in repository '" + ref.name +
                             "': push it to a branch and name that branch");
  return commit;
}

bool contains_in(git_repository* repo, const git_oid& tip, const git_oid& commit) {
  if (git_oid_equal(&tip, &commit)) return true;
  int rc = git_graph_descendant_of(repo, &tip, &commit);
  check(rc, "cannot walk the history");
  return rc == 1;
}



std::string tracking_ref(const std::string& branch) { return "refs/remotes/origin/" + branch; }

std::optional<std::string> read_ref(git_repository* repo, const std::string& refname) {
  git_oid oid;
  int rc = git_reference_name_to_id(&oid, repo, refname.c_str());
  if (rc == GIT_ENOTFOUND) return std::nullopt;
  check(rc, "cannot read " + refname);
  return to_hex(oid);
}

void drop_ref(git_repository* repo, const std::string& refname) {
  git_reference* raw = nullptr;
  if (git_reference_lookup(&raw, repo, refname.c_str()) < 0) return;
  reference_ptr ref(raw);
  git_reference_delete(ref.get());  // gone meanwhile: as good
}

// A local remote's "fetch": its tips, read in place (no network: nothing to
// time out), written to the mirror's tracking refs. No objects are copied:
// the mirror reads the remote's objects as an alternate (open_mirror), so
// git_remote_fetch only packed what the mirror could already read, wrote one
// more pack into it for every merge, and walked every branch of the remote
// to do so (issue 13: merge latency).
std::map<std::string, std::optional<std::string>> read_local_tips(
    git_repository* mirror, const repo_ref& ref, const std::filesystem::path& remote_path,
    const std::vector<std::string>& branches) {
  std::map<std::string, std::optional<std::string>> tips;
  for (const auto& branch : branches) require_branch_name(branch);
  {
    auto remote = local_repositories().take(ref, remote_path);
    for (const auto& branch : branches)
      tips[branch] = read_ref(remote.get(), "refs/heads/" + branch);  // on error: handle dropped
    local_repositories().give_back(remote_path, std::move(remote));
  }
  for (const auto& [branch, tip] : tips) {
    if (!tip) {
      drop_ref(mirror, tracking_ref(branch));  // a stale tracking ref never answers
      continue;
    }
    git_oid oid = parse_oid(*tip);
    git_reference* raw = nullptr;
    check(git_reference_create(&raw, mirror, tracking_ref(branch).c_str(), &oid, 1,
                               "agentq: fetch"),
          "cannot record the tip of '" + branch + "' of repository '" + ref.name + "'");
    reference_ptr tracking(raw);
  }
  spdlog::debug("read local tips repo={} branches={}", ref.name, branches.size());
  return tips;
}

// Fetch from a network remote with the git CLI (git_process.hpp), into the
// mirror at `path` (its lock held). git fetch sends the remote only these
// refs' prefixes (protocol v2), so the answer does not grow with the
// remote's branches. A branch the remote lacks makes git fail the whole
// fetch: it is dropped (answered nullopt, its stale tracking ref removed) and
// the rest fetched again.
std::map<std::string, std::optional<std::string>> fetch_network(
    git_repository* mirror, const std::filesystem::path& path, const repo_ref& ref,
    const std::vector<std::string>& branches, clock::time_point deadline,
    std::chrono::milliseconds limit) {
  std::map<std::string, std::optional<std::string>> tips;
  std::set<std::string> wanted;
  for (const auto& branch : branches) {
    require_branch_name(branch);
    tips.emplace(branch, std::nullopt);
    wanted.insert(branch);
  }
  while (!wanted.empty()) {
    std::vector<std::string> args{"-c", "gc.auto=0", "fetch", "--quiet", "--no-tags",
                                  "--no-write-fetch-head", "--", ref.url};
    for (const auto& branch : wanted)
      // Forced: a tracking ref only mirrors the remote.
      args.push_back("+refs/heads/" + branch + ":" + tracking_ref(branch));
    auto run = run_git(args, path, deadline);
    if (run.timed_out) throw_timeout(ref, "a fetch", limit);
    if (run.exit_code == 0) break;
    static const std::regex missing(R"(couldn't find remote ref refs/heads/(\S+))");
    std::smatch match;
    if (std::regex_search(run.err, match, missing) && wanted.erase(match[1].str()) == 1) {
      drop_ref(mirror, tracking_ref(match[1].str()));
      continue;
    }
    throw failure("cannot fetch from repository '" + ref.name + "' at " + redact_url(ref.url) +
                  " (check that it exists and that this server may read it): " +
                  git_complaint(run));
  }
  for (const auto& branch : wanted) tips[branch] = read_ref(mirror, tracking_ref(branch));
  spdlog::debug("fetched repo={} branches={}", ref.name, branches.size());
  return tips;
}

// refs/heads/agentq/<task_id>/<digits>: the only refs delete_task_branches
// may touch.
bool is_task_branch_ref(const std::string& refname, std::int64_t task_id) {
  const std::string prefix = "refs/heads/agentq/" + std::to_string(task_id) + "/";
  if (!refname.starts_with(prefix) || refname.size() == prefix.size()) return false;
  return std::all_of(refname.begin() + static_cast<std::ptrdiff_t>(prefix.size()), refname.end(),
                     [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

repo_gateway::repo_gateway(std::filesystem::path cache_dir, std::chrono::milliseconds timeout)
    : m_cache_dir(std::move(cache_dir)), m_timeout(timeout) {
  ensure_libgit2();
}

std::string repo_gateway::remote_key(const repo_ref& repo) { return git::remote_key(repo.url); }

std::filesystem::path repo_gateway::mirror_path(const repo_ref& repo) const {
  // The repos table allows only such names; checked again because this one
  // becomes a directory.
  if (!is_valid_name(repo.name))
    throw failure("repository name '" + repo.name +
                  "' is not safe as a directory name (letters, digits, . _ -)");
  return m_cache_dir / repo.name;
}

std::map<std::string, std::optional<std::string>> repo_gateway::fetch(
    const repo_ref& repo, const std::vector<std::string>& branches, deadline_t deadline) {
  const auto until = deadline_of(deadline);
  auto path = mirror_path(repo);
  mirror_guard lock(path, until, repo, m_timeout);
  auto mirror = open_mirror(path, repo);
  if (auto local = local_path(repo.url)) return read_local_tips(mirror.get(), repo, *local, branches);
  return fetch_network(mirror.get(), path, repo, branches, until, m_timeout);
}

bool repo_gateway::branch_tip_is(const repo_ref& repo, const std::string& branch,
                                 const std::string& commit, deadline_t deadline) {
  require_branch_name(branch);
  if (auto path = local_path(repo.url)) {
    // One ref, read in place: a loose ref file or one line of packed-refs
    // (libgit2 searches a sorted packed-refs file without loading it all).
    mirror_path(repo);  // the name is checked the same way for every remote
    auto remote = local_repositories().take(repo, *path);
    auto tip = read_ref(remote.get(), "refs/heads/" + branch);  // on error: handle dropped
    local_repositories().give_back(*path, std::move(remote));
    return tip && *tip == commit;
  }
  auto tips = fetch(repo, {branch}, deadline);
  const auto& tip = tips.at(branch);
  return tip && *tip == commit;
}

json repo_gateway::diff_stats(const repo_ref& repo, const std::string& base_branch,
                              const std::string& commit,
                              const std::optional<std::string>& branch, deadline_t deadline) {
  require_branch_name(base_branch);
  if (auto path = local_path(repo.url)) {
    // Every object is in the repository itself: no mirror, no fetch.
    mirror_path(repo);
    auto remote = open_local(repo, *path);
    auto base = read_ref(remote.get(), "refs/heads/" + base_branch);
    if (!base)
      throw failure("repository '" + repo.name + "' has no branch '" + base_branch + "'");
    require_commit(remote.get(), repo, commit);
    return git::diff_stats(remote.get(), parse_oid(*base), parse_oid(commit));
  }
  const auto until = deadline_of(deadline);
  auto path = mirror_path(repo);
  mirror_guard lock(path, until, repo, m_timeout);
  auto mirror = open_mirror(path, repo);
  std::vector<std::string> branches{base_branch};
  if (branch) branches.push_back(*branch);
  auto tips = fetch_network(mirror.get(), path, repo, branches, until, m_timeout);
  if (!tips.at(base_branch))
    throw failure("repository '" + repo.name + "' has no branch '" + base_branch + "'");
  require_commit(mirror.get(), repo, commit);
  return git::diff_stats(mirror.get(), parse_oid(*tips.at(base_branch)), parse_oid(commit));
}

bool repo_gateway::has_commit(const repo_ref& repo, const std::string& commit) {
  auto path = mirror_path(repo);
  mirror_guard lock(path, deadline_from_now(), repo, m_timeout);
  auto mirror = open_mirror(path, repo);
  return find_commit(mirror.get(), commit) != nullptr;
}

bool repo_gateway::contains(const repo_ref& repo, const std::string& tip,
                            const std::string& commit) {
  auto path = mirror_path(repo);
  mirror_guard lock(path, deadline_from_now(), repo, m_timeout);
  auto mirror = open_mirror(path, repo);
  auto tip_commit = require_commit(mirror.get(), repo, tip);
  auto the_commit = require_commit(mirror.get(), repo, commit);
  return contains_in(mirror.get(), *git_commit_id(tip_commit.get()),
                     *git_commit_id(the_commit.get()));
}

std::string repo_gateway::introducing_commit(const repo_ref& repo, const std::string& tip,
                                             const std::string& commit) {
  auto path = mirror_path(repo);
  mirror_guard lock(path, deadline_from_now(), repo, m_timeout);
  auto mirror = open_mirror(path, repo);
  git_oid wanted = parse_oid(commit);
  auto current = require_commit(mirror.get(), repo, tip);
  if (!contains_in(mirror.get(), *git_commit_id(current.get()), wanted))
    throw failure(tip + " does not contain " + commit);
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
  mirror_guard lock(path, deadline_from_now(), repo, m_timeout);
  auto mirror = open_mirror(path, repo);
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
                                      const std::string& commit, deadline_t deadline) {
  require_branch_name(branch);
  const auto until = deadline_of(deadline);
  auto path = mirror_path(repo);
  mirror_guard lock(path, until, repo, m_timeout);
  auto mirror = open_mirror(path, repo);
  auto to_push = require_commit(mirror.get(), repo, commit);

  if (!local_path(repo.url)) {
    // No '+': the remote takes it only as a fast-forward, checked atomically.
    auto run = run_git({"push", "--porcelain", "--", repo.url, commit + ":refs/heads/" + branch},
                       path, until);
    if (run.timed_out) throw_timeout(repo, "a push", m_timeout);
    push_result result;
    // --porcelain: "!\t<src>:<dst>\t[rejected] (fetch first)" for a refusal.
    std::istringstream lines(run.out);
    for (std::string line; std::getline(lines, line);) {
      if (!line.starts_with("!\t")) continue;
      result.message = line.substr(line.rfind('\t') + 1);
      return result;
    }
    if (run.exit_code != 0)
      throw failure("cannot push to repository '" + repo.name + "' at " + redact_url(repo.url) +
                    " (check that this server may write to it): " + git_complaint(run));
    result.pushed = true;
    return result;
  }

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

int repo_gateway::delete_task_branches(const repo_ref& repo, std::int64_t task_id,
                                       const std::string& base_branch, deadline_t deadline) {
  const auto until = deadline_of(deadline);
  const std::string base_ref = "refs/heads/" + base_branch;
  auto may_delete = [&](const std::string& refname) {
    return is_task_branch_ref(refname, task_id) && refname != base_ref;
  };
  int deleted = 0;
  if (auto local = local_path(repo.url)) {
    auto remote = open_local(repo, *local);
    std::vector<std::string> doomed;
    git_reference_iterator* raw = nullptr;
    const std::string glob = "refs/heads/agentq/" + std::to_string(task_id) + "/*";
    check(git_reference_iterator_glob_new(&raw, remote.get(), glob.c_str()),
          "cannot list the branches of repository '" + repo.name + "'");
    reference_iterator_ptr iterator(raw);
    const char* name = nullptr;
    while (git_reference_next_name(&name, iterator.get()) == 0)
      if (may_delete(name)) doomed.emplace_back(name);
    for (const auto& refname : doomed) {
      // Deleting a packed ref rewrites packed-refs under its lock; another
      // writer (a push) may hold it for a moment: try again for about a
      // second, as git does (core.packedRefsTimeout), within the deadline.
      for (int attempt = 0; attempt < 200; ++attempt) {
        git_reference* ref_raw = nullptr;
        if (git_reference_lookup(&ref_raw, remote.get(), refname.c_str()) < 0) break;
        reference_ptr ref(ref_raw);
        int rc = git_reference_delete(ref.get());
        if (rc == 0) ++deleted;
        if (rc == 0 || clock::now() >= until) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
    }
  } else {
    // Listed with ls-remote (once per finished task), deleted in one push.
    auto listed = run_git({"ls-remote", "--refs", "--", repo.url,
                           "refs/heads/agentq/" + std::to_string(task_id) + "/*"},
                          std::nullopt, until);
    if (listed.timed_out) throw_timeout(repo, "a listing of its branches", m_timeout);
    if (listed.exit_code != 0)
      throw failure("cannot list the branches of repository '" + repo.name + "' at " +
                    redact_url(repo.url) + ": " + git_complaint(listed));
    std::vector<std::string> args{"push", "--porcelain", "--", repo.url};
    std::istringstream lines(listed.out);
    for (std::string line; std::getline(lines, line);) {
      auto tab = line.find('\t');
      if (tab == std::string::npos) continue;
      std::string refname = line.substr(tab + 1);
      if (may_delete(refname)) args.push_back(":" + refname);
    }
    const int candidates = static_cast<int>(args.size()) - 4;
    if (candidates > 0) {
      auto path = mirror_path(repo);
      mirror_guard lock(path, until, repo, m_timeout);
      open_mirror(path);
      auto run = run_git(args, path, until);
      if (run.timed_out) throw_timeout(repo, "a push deleting branches", m_timeout);
      // A ref deleted by someone else meanwhile is refused with "remote ref
      // does not exist": as good as deleted.
      std::istringstream pushed(run.out);
      for (std::string line; std::getline(pushed, line);)
        if (line.starts_with("-\t")) ++deleted;
      if (run.exit_code != 0 && run.err.find("remote ref does not exist") == std::string::npos)
        throw failure("cannot delete the branches of task " + std::to_string(task_id) +
                      " in repository '" + repo.name + "': " + git_complaint(run));
    }
  }
  // The mirror's tracking refs of those branches go too: the mirror must not
  // grow with every task either.
  auto path = mirror_path(repo);
  if (std::filesystem::exists(path / "HEAD")) {
    mirror_guard lock(path, until, repo, m_timeout);
    auto mirror = open_mirror(path, repo);
    std::vector<std::string> doomed;
    git_reference_iterator* raw = nullptr;
    const std::string glob = "refs/remotes/origin/agentq/" + std::to_string(task_id) + "/*";
    if (git_reference_iterator_glob_new(&raw, mirror.get(), glob.c_str()) == 0) {
      reference_iterator_ptr iterator(raw);
      const char* name = nullptr;
      while (git_reference_next_name(&name, iterator.get()) == 0) doomed.emplace_back(name);
    }
    for (const auto& refname : doomed)
      if (may_delete("refs/heads/" + refname.substr(std::string("refs/remotes/origin/").size())))
        drop_ref(mirror.get(), refname);
  }
  spdlog::debug("deleted task branches repo={} task_id={} count={}", repo.name, task_id, deleted);
  return deleted;
}

}  // namespace agentq::git
