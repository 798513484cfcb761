-- A holder gives its claim back for a fault of its own runner (its agent
-- could not run: docs/api.md "Runner health"), not of the task. A worker's
-- task returns to queued after the usual backoff of $7 seconds (a task that
-- makes the agent fail at once must not come straight back), and the attempt
-- its claim took is given back; a reviewer's returns to awaiting_review.
-- Counts the release in tasks.uncharged_releases (the caller checks the cap).
-- $1 task id, $2 token, $3 agent_id, $4 reason, $5 actor, $6 now, $7 backoff_s
with clock as (select coalesce($6::timestamptz, now()) as now),
target as (
    select t.id, t.state as from_state,
           case when t.state = 'reviewing' then 'awaiting_review'::task_state
                else 'queued'::task_state end as to_state
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
        attempt = case when x.from_state = 'working' then greatest(t.attempt - 1, 0)
                       else t.attempt end,
        uncharged_releases = t.uncharged_releases + 1,
        run_after = case when x.to_state = 'queued'
                         then clock.now + make_interval(secs => $7::integer)
                         else t.run_after end
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
    select r.id, clock.now, 'released', $5, $2, r.from_state, r.to_state,
           jsonb_build_object('reason', $4::text, 'retry', true, 'charge_attempt', false)
    from released r, clock
)
select to_state, task from released
