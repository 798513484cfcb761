#pragma once
// Bearer tokens this server verified against the database moments ago, so a
// re-sent long-poll (and every other call of a busy agent) is authenticated
// without a query.
//
// Why: an idle fleet re-sends its long-polls all the time (a runner's claim
// ends with 204 after wait_s, 20 s by default, and it asks again at once).
// Authenticating each with a query cost 1,000 agents / 20 s = 50 statements a
// second on an idle server. Here an entry answers for `expiry` after the
// database last said the token is live; one refresh statement re-verifies
// every entry still in use (refresh_due() / refreshed(), driven by the server
// every expiry / 3), so an agent that calls every 20 s stays cached and an
// idle fleet costs one statement per refresh, however many agents it has.
//
// The guarantee (docs/api.md §5, docs/design.md): an entry is only used
// within `expiry` of a verification, so a token revoked through another
// server (or an agent changed by SQL) stops working, or gets its new role,
// within `expiry`; revoked through this server, at once (forget_agent).
// Roles are checked on every call against the identity found here, which is
// the database's answer of at most `expiry` ago.
//
// Keys are the token's SHA-256 (what the database keeps), never the token.
// Only tokens the database accepted are kept: an unknown token costs a query
// each time, as before. At most max_entries are kept (the least recently
// verified go first). Thread-safe: the database threads share one.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/defaults.hpp"
#include "store/store.hpp"

namespace agentq {

struct auth_cache_config {
  // How long the database's "this token is live" is believed. 0: no cache.
  std::chrono::milliseconds expiry{std::chrono::seconds(defaults::auth_cache_s)};
  // An entry nobody used for this long is not refreshed (it expires).
  std::chrono::milliseconds keep_unused{std::chrono::seconds(defaults::auth_cache_keep_unused_s)};
  std::size_t max_entries = 100000;
};

class auth_cache {
 public:
  using clock = std::chrono::steady_clock;
  using now_fn = std::function<clock::time_point()>;

  explicit auth_cache(auth_cache_config config = {}, now_fn now = &clock::now);

  bool enabled() const { return m_config.expiry.count() > 0; }
  const auth_cache_config& config() const { return m_config; }

  // The identity of a token hash verified within `expiry`, or nothing.
  std::optional<agent_identity> find(const std::string& token_hash);

  // Read before asking the database; pass to remember(). A forget_agent()
  // in between keeps the answer out (it may predate the revocation).
  std::uint64_t epoch() const;
  // The database accepted this token hash (asked at or after epoch_seen).
  void remember(const std::string& token_hash, const agent_identity& who,
                std::uint64_t epoch_seen);
  // The agent was revoked through this server: its tokens stop working now.
  void forget_agent(const std::string& name);

  // The refresh: the hashes worth verifying again (used within keep_unused,
  // verified more than expiry / 3 ago), and when the refresh began (read
  // before the query). refreshed() takes what the database still accepts of
  // them: those entries count as verified at `began`, the others go.
  struct refresh_batch {
    std::vector<std::string> token_hashes;
    clock::time_point began;
  };
  refresh_batch refresh_due();
  void refreshed(const refresh_batch& asked, const std::map<std::string, agent_identity>& live);

  std::size_t size() const;

 private:
  struct entry {
    agent_identity who;
    clock::time_point verified_at;
    clock::time_point used_at;
  };
  void evict_oldest_locked();

  auth_cache_config m_config;
  now_fn m_now;
  mutable std::mutex m_mutex;
  std::uint64_t m_epoch = 0;
  std::unordered_map<std::string, entry> m_entries;
};

}  // namespace agentq
