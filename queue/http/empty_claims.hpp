#pragma once
// What the server remembers of claims that came back empty, so that a
// long-poll claim that would find nothing again parks without a query.
//
// An idle fleet re-polls all the time (a runner's long-poll ends with 204
// after wait_s and it asks again at once): 1,000 agents polling with
// wait_s 60 would cost 17 claim statements a second that all find nothing.
// Instead, a claim that came back empty is remembered by its key (role,
// queues, and for a reviewer who asks: see key_of) until anything may have
// changed; a long-poll with a remembered key parks at once. What forgets:
//   - changed(): the claim waiters call it for every notification (a task
//     became claimable in some queue, or anything may have) and at every
//     sweep, the backstop for what sends no notification (run_after coming
//     due, leases running out);
//   - nothing else: the memory is only ever a subset of "came back empty
//     since the last change", so it never hides a task longer than the
//     claim waiters' own sweep would.
// A claim whose try began before a change is not remembered (note() takes
// the epoch read before the try).

#include <cstdint>
#include <mutex>
#include <set>
#include <string>

#include "http/handler.hpp"

namespace agentq {

class empty_claims {
 public:
  // Read before trying a claim; pass to note() if it came back empty.
  std::uint64_t epoch() const;
  // Something may have become claimable: forget every key.
  void changed();
  // Whether a claim like this one came back empty since the last change.
  bool known(const parked_claim& claim) const;
  void note(const parked_claim& claim, std::uint64_t epoch_seen);
  // Every claim of this one's role and queues came back empty (whoever asks).
  void note_filter(const parked_claim& claim, std::uint64_t epoch_seen);

  // Claims with one key get one answer from the database: role and queues,
  // and for a reviewer who asks (it never reviews its own work).
  static std::string key_of(const parked_claim& claim, bool whoever_asks = false);

 private:
  mutable std::mutex m_mutex;
  std::uint64_t m_epoch = 0;
  std::set<std::string> m_empty;
};

}  // namespace agentq
