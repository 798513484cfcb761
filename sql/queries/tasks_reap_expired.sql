-- The reaper: return up to $1 tasks whose lease ran out to their queue, and
-- record why. A worker's task with no attempts left fails instead. Locked rows
-- are skipped (a holder may be heartbeating them), so any number of reapers
-- can run at once. $1 limit, $2 now
with clock as (select coalesce($2::timestamptz, now()) as now),
expired as (
    select t.id, t.state, t.claim_token from tasks t
    where t.state in ('working', 'reviewing') and t.lease_expires_at <= coalesce($2::timestamptz, now())
    order by t.lease_expires_at
    limit $1
    for update of t skip locked
),
returned as (
    update tasks t
    set state = case when x.state = 'reviewing' then 'awaiting_review'::task_state
                     when t.attempt >= t.max_attempts then 'failed'::task_state
                     else 'queued'::task_state end,
        finished_at = case when x.state = 'working' and t.attempt >= t.max_attempts
                           then clock.now end,
        claim_token = null, claim_agent_id = null, claim_role = null,
        lease_expires_at = null, updated_at = clock.now
    from expired x, clock where t.id = x.id
    returning t.id, x.state as from_state, t.state as to_state, x.claim_token
),
claim_row as (
    update claims c set ended_at = clock.now, outcome = 'expired'
    from returned r, clock where c.token = r.claim_token and c.ended_at is null
),
event as (
    insert into events (task_id, at, kind, actor, token, from_state, to_state, detail)
    select r.id, clock.now, 'lease_expired', 'reaper', r.claim_token, r.from_state,
           r.to_state, '{}'::jsonb
    from returned r, clock
)
select count(*) as reaped from returned
