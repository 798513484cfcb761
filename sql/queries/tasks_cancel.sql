-- A person cancels a task from any state that is not final. A live claim ends
-- with it, so the holder's next heartbeat is refused. A task whose approval
-- is being merged cannot be cancelled: the merge decides.
-- $1 task id, $2 actor, $3 reason, $4 now
with clock as (select coalesce($4::timestamptz, now()) as now),
held as (
    select t.id, t.state, t.claim_token from tasks t
    where t.id = $1 and t.state not in ('done', 'failed', 'cancelled')
      and not exists (select 1 from merges m where m.task_id = t.id and m.status = 'pending')
    for update
),
cancelled as (
    update tasks t
    set state = 'cancelled', finished_at = clock.now, claim_token = null,
        claim_agent_id = null, claim_role = null, lease_expires_at = null,
        updated_at = clock.now
    from held h, clock where t.id = h.id
    returning t.id, agentq_task_json(t) as task
),
claim_row as (
    update claims c set ended_at = clock.now, outcome = 'cancelled'
    from held h, clock where c.token = h.claim_token and c.ended_at is null
),
event as (
    insert into events (task_id, at, kind, actor, token, from_state, to_state, detail)
    select h.id, clock.now, 'cancelled', $2, h.claim_token, h.state, 'cancelled',
           jsonb_build_object('reason', $3::text)
    from held h, clock
)
select task from cancelled
