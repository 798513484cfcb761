#include "gitcore/diff_stats.hpp"

#include <algorithm>

#include "gitcore/handles.hpp"

namespace agentq::git {

using nlohmann::json;

json diff_stats(git_repository* repo, const std::optional<git_oid>& base, const git_oid& commit) {
  if (!find_commit(repo, commit)) throw failure("commit " + to_hex(commit) + " is not in the repository");
  // Against the merge base: what the commit brings, not what the base gained
  // since the work started.
  std::optional<git_oid> from;
  if (base) {
    if (!find_commit(repo, *base))
      throw failure("commit " + to_hex(*base) + " is not in the repository");
    git_oid merge_base;
    int rc = git_merge_base(&merge_base, repo, &*base, &commit);
    if (rc == 0)
      from = merge_base;
    else if (rc != GIT_ENOTFOUND)
      check(rc, "cannot find the merge base of " + to_hex(commit) + " and " + to_hex(*base));
  }
  tree_ptr old_tree = from ? commit_tree(repo, *from) : nullptr;
  tree_ptr new_tree = commit_tree(repo, commit);

  git_diff* raw_diff = nullptr;
  check(git_diff_tree_to_tree(&raw_diff, repo, old_tree.get(), new_tree.get(), nullptr),
        "cannot diff " + to_hex(commit));
  diff_ptr diff(raw_diff);
  git_diff_find_options find = GIT_DIFF_FIND_OPTIONS_INIT;
  find.flags = GIT_DIFF_FIND_RENAMES;
  check(git_diff_find_similar(diff.get(), &find), "cannot find renames in " + to_hex(commit));

  git_diff_stats* raw_stats = nullptr;
  check(git_diff_get_stats(&raw_stats, diff.get()), "cannot count the diff of " + to_hex(commit));
  diff_stats_ptr stats(raw_stats);

  const std::size_t count = git_diff_num_deltas(diff.get());
  std::vector<std::size_t> order(count);
  for (std::size_t i = 0; i < count; ++i) order[i] = i;
  auto path_of = [&](std::size_t i) -> std::string {
    const git_diff_delta* delta = git_diff_get_delta(diff.get(), i);
    return delta->status == GIT_DELTA_DELETED ? delta->old_file.path : delta->new_file.path;
  };
  std::sort(order.begin(), order.end(),
            [&](std::size_t a, std::size_t b) { return path_of(a) < path_of(b); });

  json files = json::array();
  for (std::size_t n = 0; n < count && n < max_listed_files; ++n) {
    const std::size_t i = order[n];
    const git_diff_delta* delta = git_diff_get_delta(diff.get(), i);
    git_patch* raw_patch = nullptr;
    check(git_patch_from_diff(&raw_patch, diff.get(), i), "cannot diff " + to_hex(commit));
    patch_ptr patch(raw_patch);
    std::size_t added = 0, removed = 0;
    if (patch)
      check(git_patch_line_stats(nullptr, &added, &removed, patch.get()), "cannot count lines");
    files.push_back({{"path", path_of(i)},
                     {"status", std::string(1, git_diff_status_char(delta->status))},
                     {"insertions", added},
                     {"deletions", removed}});
  }
  return {{"base", from ? json(to_hex(*from)) : json(nullptr)},
          {"commit", to_hex(commit)},
          {"files_changed", git_diff_stats_files_changed(stats.get())},
          {"insertions", git_diff_stats_insertions(stats.get())},
          {"deletions", git_diff_stats_deletions(stats.get())},
          {"files", std::move(files)},
          {"files_truncated", count > max_listed_files}};
}

}  // namespace agentq::git
