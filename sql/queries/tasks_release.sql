-- A holder gives its claim back. A reviewer's task returns to awaiting_review.
-- A worker's returns to queued after a backoff of $6 seconds when it asks for
-- a retry and has attempts left; otherwise the task fails.
-- $1 task id, $2 token, $3 agent_id, $4 reason, $5 retry, $6 backoff_s,
-- $7 actor, $8 now
with clock as (select coalesce($8::timestamptz, now()) as now),
target as (
    select t.id, t.state as from_state,
           case when t.state = 'reviewing' then 'awaiting_review'::task_state
                when $5::boolean and t.attempt < t.max_attempts then 'queued'::task_state
                else 'failed'::task_state end as to_state
    from tasks t, clock
    where t.id = $1 and t.state in ('working', 'reviewing') and t.claim_token = $2
      and t.claim_agent_id = $3 and t.lease_expires_at > clock.now
      and t.lease_expires_at < 'infinity'
    for update
),
released as (
    update tasks t
    set state = x.to_state, claim_token = null, claim_agent_id = null,
        claim_role = null, lease_expires_at = null, updated_at = clock.now,
        run_after = case when x.to_state = 'queued'
                         then clock.now + make_interval(secs => $6::integer)
                         else t.run_after end,
        finished_at = case when x.to_state = 'failed' then clock.now end
    from target x, clock
    where t.id = x.id
    returning t.id, x.from_state, x.to_state, agentq_task_json(t) as task
),
claim_row as (
    update claims c set ended_at = clock.now, outcome = 'released'
    from released, clock where c.token = $2
),
event as (
    insert into events (task_id, at, kind, actor, token, from_state, to_state, detail)
    select r.id, clock.now, 'released', $7, $2, r.from_state, r.to_state,
           jsonb_build_object('reason', $4::text, 'retry', $5::boolean,
                              'backoff_s', case when r.to_state = 'queued' then $6::integer end)
    from released r, clock
)
select to_state, task from released
