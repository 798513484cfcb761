// merge_land_helper: lands one merge in a process of its own, so the crash
// tests can kill a merger at a fault point (AGENTQ_FAULT) and look at what it
// left behind. Not installed; built for tests/merge only.
#include <cstdlib>
#include <iostream>
#include <string>

#include "services/merger.hpp"

int main(int argc, char** argv) {
  if (argc == 2 && std::string(argv[1]) == "--help") {
    std::cout << "usage: merge_land_helper DATABASE_URL CACHE_DIR MERGE_ID\n"
                 "Lands merge MERGE_ID with a merger whose mirrors live in CACHE_DIR and\n"
                 "prints the result as JSON. Set AGENTQ_FAULT=merger.after_push to make it\n"
                 "die (exit 137) right after its push, before recording the merge.\n";
    return 0;
  }
  if (argc != 4) {
    std::cerr << "usage: merge_land_helper DATABASE_URL CACHE_DIR MERGE_ID (--help)\n";
    return 2;
  }
  try {
    agentq::merger_config config;
    config.cache_dir = argv[2];
    agentq::merger merger(argv[1], config);
    auto result = merger.land(std::stoll(argv[3]));
    std::cout << nlohmann::json{
                     {"outcome", result.outcome == agentq::merge_result::kind::merged ? "merged"
                                                                                       : "conflict"},
                     {"merge_commit", result.merge_commit},
                     {"detail", result.detail}}
                     .dump()
              << "\n";
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "merge_land_helper: " << e.what() << "\n";
    return 1;
  }
}
