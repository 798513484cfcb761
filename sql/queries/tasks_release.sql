-- A holder gives its claim back. A reviewer's task returns to awaiting_review.
-- A worker's returns to queued after a backoff of $6 seconds when it asks for
-- a retry and has attempts left; otherwise the task fails.
-- A release with $9 false is the runner's fault, not the task's (its agent
-- could not run: docs/api.md "Runner health"): the attempt the claim took is
-- given back and a worker's task is queued after the same backoff; counted in
-- tasks.uncharged_releases, and once a task has $10 of those, charged like any
-- other release (a runner could otherwise hand a task back for ever).
-- $1 task id, $2 token, $3 agent_id, $4 reason, $5 retry, $6 backoff_s,
-- $7 actor, $8 now, $9 charge_attempt, $10 the most uncharged releases
with clock as (select coalesce($8::timestamptz, now()) as now),
target as (
    select x.*,
           case when x.from_state = 'reviewing' then 'awaiting_review'::task_state
                when x.uncharged then 'queued'::task_state
                when $5::boolean and x.attempt < x.max_attempts then 'queued'::task_state
                else 'failed'::task_state end as to_state
    from (select t.id, t.state as from_state, t.attempt, t.max_attempts,
                 (not $9::boolean and t.uncharged_releases < $10::integer) as uncharged
          from tasks t, clock
          where t.id = $1 and t.state in ('working', 'reviewing') and t.claim_token = $2
            and t.claim_agent_id = $3 and t.lease_expires_at > clock.now
            and t.lease_expires_at < 'infinity'
          for update of t) x
),
released as (
    update tasks t
    set state = x.to_state, claim_token = null, claim_agent_id = null,
        claim_role = null, lease_expires_at = null, updated_at = clock.now,
        attempt = case when x.uncharged and x.from_state = 'working'
                       then greatest(t.attempt - 1, 0) else t.attempt end,
        uncharged_releases = t.uncharged_releases + case when x.uncharged then 1 else 0 end,
        run_after = case when x.to_state = 'queued'
                         then clock.now + make_interval(secs => $6::integer)
                         else t.run_after end,
        finished_at = case when x.to_state = 'failed' then clock.now end
    from target x, clock
    where t.id = x.id
    returning t.id, x.from_state, x.to_state, x.uncharged, agentq_task_json(t) as task
),
claim_row as (
    update claims c set ended_at = clock.now, outcome = 'released'
    from released, clock where c.token = $2
),
event as (
    insert into events (task_id, at, kind, actor, token, from_state, to_state, detail)
    select r.id, clock.now, 'released', $7, $2, r.from_state, r.to_state,
           case when r.uncharged
                then jsonb_build_object('reason', $4::text, 'retry', true, 'charge_attempt', false)
                else jsonb_build_object('reason', $4::text, 'retry', $5::boolean,
                                        'backoff_s', case when r.to_state = 'queued' then $6::integer end)
           end
    from released r, clock
)
select to_state, task, not uncharged as charged_attempt from released
