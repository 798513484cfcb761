#pragma once
// What a commit changes, in the one shape every part of agentq shows: the
// reviewer's task file (runner/git_workspace), `GET /v1/disagreements/{id}`
// and `agentq disagreements show` (queue/git/repo_gateway).
//
//   {"base":          "<40 hex>" | null,   the merge base it is compared with
//                                          (null: no common history, so
//                                          everything in the commit is new)
//    "commit":        "<40 hex>",
//    "files_changed": N, "insertions": N, "deletions": N,   (all files)
//    "files": [{"path", "status", "insertions", "deletions"}],
//    "files_truncated": bool}              true when more than max_listed_files
//
// files are sorted by path; status is git's letter (A added, D deleted,
// M modified, R renamed, C copied, T type changed); path is the new path
// (the old one for a deletion). Renames are detected (git's default 50 %).

#include <cstddef>
#include <optional>

#include <git2.h>
#include <nlohmann/json.hpp>

namespace agentq::git {

// The most files listed one by one; totals always count all of them.
constexpr std::size_t max_listed_files = 1000;

// `commit` against its merge base with `base` (or against nothing when
// `base` is nullopt or shares no history with it). Both commits must be in
// `repo`; throws failure otherwise.
nlohmann::json diff_stats(git_repository* repo, const std::optional<git_oid>& base,
                          const git_oid& commit);

}  // namespace agentq::git
