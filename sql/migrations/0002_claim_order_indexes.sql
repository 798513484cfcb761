-- 0002: indexes a claim can walk in its own order.
--
-- A claim takes the best claimable task: highest priority, then oldest. The
-- 0001 indexes lead with `queue`, so a claim over every queue had to read and
-- sort all claimable rows before taking one (bench/: ~20-40 ms a claim with
-- 20,000 queued tasks, under the claim lock). These indexes are in the claim's
-- order, so it reads rows until it has found `limit` it may take (a probe: the
-- candidate search went from 13.9 ms to 0.09 ms).
create index tasks_claim_order_worker on tasks (priority desc, id)
    where state = 'queued';
create index tasks_claim_order_reviewer on tasks (priority desc, id)
    where state = 'awaiting_review';
