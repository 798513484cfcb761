#include "serve_support.hpp"

#include <chrono>
#include <fstream>
#include <stdexcept>
#include <thread>

namespace agentq::bench {

namespace fs = std::filesystem;

std::string run_git(const std::vector<std::string>& args, const fs::path& dir) {
  std::vector<std::string> argv{"git"};
  argv.insert(argv.end(), args.begin(), args.end());
  child_process git(argv, (dir / "git.out").string(), (dir / "git.err").string(),
                    {{"GIT_AUTHOR_NAME", "agentq-bench"},
                     {"GIT_AUTHOR_EMAIL", "bench@agentq.invalid"},
                     {"GIT_COMMITTER_NAME", "agentq-bench"},
                     {"GIT_COMMITTER_EMAIL", "bench@agentq.invalid"}});
  if (git.wait() != 0)
    throw std::runtime_error("git " + args.front() + " failed: " + read_file((dir / "git.err").string()));
  auto out = read_file((dir / "git.out").string());
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

std::string make_repository(const fs::path& repo, const fs::path& dir) {
  run_git({"init", "-q", "--bare", "-b", "main", repo.string()}, dir);
  auto git_dir = "--git-dir=" + repo.string();
  auto tree = run_git({git_dir, "hash-object", "-t", "tree", "-w", "/dev/null"}, dir);
  auto commit = run_git({git_dir, "commit-tree", tree, "-m", "agentq-bench"}, dir);
  run_git({git_dir, "update-ref", "refs/heads/main", commit}, dir);
  return commit;
}

void write_branch(const fs::path& repo, const std::string& branch, const std::string& commit) {
  auto ref = repo / "refs" / "heads" / branch;
  fs::create_directories(ref.parent_path());
  std::ofstream(ref) << commit << "\n";
}

std::unique_ptr<child_process> start_server(const options& opts, const bench_database& db,
                                            const fs::path& dir,
                                            const std::vector<std::string>& extra_args,
                                            const std::map<std::string, std::string>& extra_env) {
  std::vector<std::string> argv{opts.agentq, "serve", "--database-url", db.url(), "--listen",
                                "127.0.0.1:0", "--lease-s", std::to_string(opts.lease_s),
                                "--git-cache", (dir / "server-git").string()};
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  return std::make_unique<child_process>(argv, (dir / "serve.out").string(),
                                         (dir / "serve.err").string(), extra_env);
}

std::string wait_for_listen(child_process& server, const fs::path& dir) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    auto text = read_file((dir / "serve.out").string());
    auto at = text.find("listening on ");
    if (at != std::string::npos && text.find('\n', at) != std::string::npos) {
      auto address = text.substr(at + 13);
      return "http://" + address.substr(0, address.find('\n'));
    }
    if (!server.running())
      throw std::runtime_error("agentq serve exited: " + read_file((dir / "serve.err").string()));
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  throw std::runtime_error("agentq serve did not start listening within 20 s");
}

}  // namespace agentq::bench
