-- Merge $1 could not land: the task goes back to queued with the conflict as
-- feedback (the next attempt starts from the new base). An event, not a
-- disagreement: nobody disagreed.
-- $1 merge id, $2 detail, $3 actor, $4 now
-- (The update joins `held` so that its FOR UPDATE runs first: a row this
-- statement has already updated cannot be locked by it, and would vanish.)
with clock as (select coalesce($4::timestamptz, now()) as now),
held as (
    select t.id, t.state, t.claim_token, t.review_round from tasks t
    where t.id = (select task_id from merges where id = $1)
      and t.state in ('reviewing', 'needs_human')  -- never revive a final task
    for update
),
conflicted as (
    update merges m set status = 'conflict', detail = $2, finished_at = clock.now
    from held h, clock where m.id = $1 and m.status = 'pending' and h.id = m.task_id
    returning m.task_id, m.commit
),
requeued as (
    update tasks t
    set state = 'queued', attempt = 0, run_after = clock.now, claim_token = null,
        claim_agent_id = null, claim_role = null, lease_expires_at = null,
        updated_at = clock.now
    from conflicted m, held h, clock where t.id = m.task_id and h.id = t.id
    returning t.id, agentq_task_json(t) as task
),
claim_row as (
    update claims c set ended_at = clock.now, outcome = 'approved',
                        lease_expires_at = clock.now
    from held h, requeued, clock where c.token = h.claim_token and c.ended_at is null
),
note as (
    insert into feedback (task_id, round, source, author, text, created_at)
    select h.id, h.review_round, 'merge_conflict', $3, $2, clock.now
    from held h, requeued, clock
),
event as (
    insert into events (task_id, at, kind, actor, token, from_state, to_state, detail)
    select h.id, clock.now, 'merge_conflict', $3, h.claim_token, h.state, 'queued',
           jsonb_build_object('merge_id', $1::bigint, 'commit', m.commit, 'detail', $2::text)
    from held h, conflicted m, requeued, clock
)
select task from requeued
