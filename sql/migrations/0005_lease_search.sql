-- 0005: a claim's search for expired leases stops at the first live lease
-- (issue 13, target 5; docs/benchmarks-profile.md).
--
-- A claim also takes over tasks whose lease ran out: `state = 'working' and
-- lease_expires_at <= now order by lease_expires_at`. 0001's index held
-- lease_expires_at alone, and the queries compared it with a column of the
-- clock CTE, which is not an index condition: every claim read every held
-- task (each live claim) to find none expired, through this index or
-- tasks_state_id, whichever the planner's statistics favoured. The bench's
-- index row measured 1,150 index entries read per claim after 2,300 claims,
-- and the fleet holds a claim per busy agent. The queries now compare with
-- the clock itself (an index condition) and this index leads with the state,
-- so each role's search is one range scan that ends at the first live lease,
-- and the planner has no cheaper-looking index for it. The reaper asks for
-- both states: two ranges of the same index.
drop index tasks_held_by_lease;
create index tasks_held_by_lease on tasks (state, lease_expires_at)
    where state in ('working', 'reviewing');
