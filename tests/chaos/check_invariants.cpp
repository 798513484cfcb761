// chaos_invariants DATABASE_URL: the store's own invariant check
// (agentq::store::check_invariants, store/invariants.cpp) over a database a
// chaos run used. Prints one line per violation; exits 1 if there is any,
// 2 if the database cannot be read, 0 when the history is consistent.
#include <iostream>

#include "store/store.hpp"

int main(int argc, char** argv) {
  if (argc != 2 || std::string(argv[1]) == "--help") {
    std::cerr << "usage: chaos_invariants DATABASE_URL\n";
    return 2;
  }
  try {
    agentq::store db(argv[1]);
    auto problems = db.check_invariants();
    for (const auto& line : problems) std::cout << line << "\n";
    return problems.empty() ? 0 : 1;
  } catch (const std::exception& e) {
    std::cerr << "chaos_invariants: " << e.what() << "\n";
    return 2;
  }
}
