-- The merger landed merge $1 as commit $2: the task is done. Only a pending
-- merge finishes, so a merge lands exactly once.
-- $1 merge id, $2 merge_commit, $3 actor, $4 now
-- (The update joins `held` so that its FOR UPDATE runs first: a row this
-- statement has already updated cannot be locked by it, and would vanish.)
with clock as (select coalesce($4::timestamptz, now()) as now),
held as (
    select t.id, t.state, t.claim_token from tasks t
    where t.id = (select task_id from merges where id = $1)
      and t.state in ('reviewing', 'needs_human')  -- never revive a final task
    for update
),
merged as (
    update merges m set status = 'merged', merge_commit = $2, finished_at = clock.now
    from held h, clock where m.id = $1 and m.status = 'pending' and h.id = m.task_id
    returning m.task_id, m.commit
),
done as (
    update tasks t
    set state = 'done', finished_at = clock.now, claim_token = null,
        claim_agent_id = null, claim_role = null, lease_expires_at = null,
        updated_at = clock.now
    from merged m, held h, clock where t.id = m.task_id and h.id = t.id
    returning t.id, agentq_task_json(t) as task
),
claim_row as (
    update claims c set ended_at = clock.now, outcome = 'approved',
                        lease_expires_at = clock.now
    from held h, done, clock where c.token = h.claim_token and c.ended_at is null
),
event as (
    insert into events (task_id, at, kind, actor, token, from_state, to_state, detail)
    select h.id, clock.now, 'merged', $3, h.claim_token, h.state, 'done',
           jsonb_build_object('merge_id', $1::bigint, 'commit', m.commit,
                              'merge_commit', $2::text)
    from held h, merged m, done, clock
)
select task from done
