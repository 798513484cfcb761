#pragma once
// The defaults a user meets in several programs, said once: the server's
// database and address, the address clients dial, and the lease a claim may
// ask for (docs/api.md §2 and §5). Usage texts repeat the values for people;
// code reads them from here.

namespace agentq::defaults {

// AGENTQ_DATABASE_URL: libpq's URI for a local database named agentq.
inline constexpr const char* database_url = "postgresql:///agentq";
// AGENTQ_LISTEN: where `agentq serve` listens.
inline constexpr const char* listen = "127.0.0.1:7420";
// AGENTQ_SERVER: where the CLI and the runners find the server.
inline constexpr const char* server_url = "http://127.0.0.1:7420";

// A claim's lease: the range a request (POST /v1/claims lease_s, a runner's
// --lease-s) and `agentq serve --lease-s` may name, and the server's default.
inline constexpr int lease_min_s = 5;
inline constexpr int lease_max_s = 3600;
inline constexpr int lease_s = 300;
// A claim's first lease (agentq serve --first-lease-s): until its first
// heartbeat a claim runs out this soon, so a claim that nobody acts on comes
// back in seconds; 0 turns it off. The runners heartbeat right after claiming.
inline constexpr int first_lease_s = 10;

// agentq serve --retain-finished: finished tasks are deleted (with their
// claims, events, submissions ...) this long after they finished.
inline constexpr long long retain_finished_s = 30LL * 86400;

// agentq serve --auth-cache-s: a server believes the database's "this token
// is live" this long (queue/http/auth_cache.hpp), so a token revoked through
// another server stops working within it (through this one: at once).
inline constexpr int auth_cache_s = 5;
// A cached token nobody used for this long is not re-verified: more than the
// runners' 20 s long-poll, so an idle fleet's tokens stay cached.
inline constexpr int auth_cache_keep_unused_s = 120;

}  // namespace agentq::defaults
