#pragma once
// What the rows that run `agentq serve` share (http, wake, fleet, loop): git
// in a child process, a bare repository to submit against, the server child
// and the address it listens on.

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "bench_database.hpp"
#include "child_process.hpp"
#include "options.hpp"

namespace agentq::bench {

// Runs `git args...` in `dir` (its output files go there too); answers its
// stdout without the trailing newline. Throws with git's stderr on failure.
std::string run_git(const std::vector<std::string>& args, const std::filesystem::path& dir);

// A bare repository with one commit on main; answers the commit.
std::string make_repository(const std::filesystem::path& repo, const std::filesystem::path& dir);

// The worker's push, without a push: the ref the claim's branch names.
void write_branch(const std::filesystem::path& repo, const std::string& branch,
                  const std::string& commit);

// `agentq serve` on a free port of 127.0.0.1 against the row's database,
// output in dir/serve.{out,err}; extra_env for e.g. AGENTQ_REPO_ROOTS.
std::unique_ptr<child_process> start_server(const options& opts, const bench_database& db,
                                            const std::filesystem::path& dir,
                                            const std::vector<std::string>& extra_args = {},
                                            const std::map<std::string, std::string>& extra_env = {});

// Waits for "listening on HOST:PORT" on the server's stdout (dir/serve.out);
// answers http://HOST:PORT.
std::string wait_for_listen(child_process& server, const std::filesystem::path& dir);

}  // namespace agentq::bench
