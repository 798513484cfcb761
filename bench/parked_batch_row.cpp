// The batch row of parked callers (issue 13, target 2): what the claim
// waiters run when a wake finds many long-polls parked on one filter. One
// thread: store::claim_batch for `batch` different worker agents (one
// statement, a task, token and claims row each), then each agent submits
// its task. Compare with `batch` rows of one agent claiming `limit` tasks.
#include <memory>
#include <stdexcept>

#include "load.hpp"
#include "rows.hpp"

namespace agentq::bench {
namespace {

agent_identity bench_agent(store& queue, const std::string& name) {
  auto made = queue.add_agent(new_agent{name, agent_role::worker});
  if (!made) throw std::runtime_error("add_agent " + name + ": " + made.error().message);
  auto identity = queue.authenticate((*made)["token"].get<std::string>());
  if (!identity) throw std::runtime_error("authenticate " + name);
  return *identity;
}

}  // namespace

row run_parked_batch_row(const bench_template& tpl, const options& opts, int batch) {
  bench_database db(tpl);
  db.load_queued(opts.tasks);
  db.vacuum_analyze();
  auto load = run_clients(1, opts.duration_s, [&](int) -> cycle_fn {
    auto queue = std::make_shared<store>(db.url());
    auto claimants = std::make_shared<std::vector<batch_claimant>>();
    for (int i = 0; i < batch; ++i)
      claimants->push_back({bench_agent(*queue, "parked-" + std::to_string(i)), opts.lease_s});
    return [queue, claimants] {
      auto claimed = queue->claim_batch(agent_role::worker, {}, *claimants);
      int done = 0;
      for (std::size_t i = 0; i < claimed.grants.size(); ++i) {
        const auto& grant = claimed.grants[i];
        if (!grant) continue;
        auto submitted = queue->submit(
            grant->task_id,
            submit_request{grant->token, bench_branch, bench_commit, bench_summary},
            (*claimants)[i].agent);
        if (!submitted)
          throw std::runtime_error("submit of task " + std::to_string(grant->task_id) +
                                   " refused: " + submitted.error().message);
        ++done;
      }
      return done;
    };
  });
  row r = make_row("batch", "store claim_batch of " + std::to_string(batch) +
                                " parked agents + submits", 1);
  r.versus = "floor, 1 client";
  r.note = "latency: 1 claim for " + std::to_string(batch) + " agents + " +
           std::to_string(batch) + " submits";
  return finish_row(r, load, db.count_in_state("awaiting_review"));
}

}  // namespace agentq::bench
