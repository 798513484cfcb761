-- A worker hands in its branch: working -> awaiting_review, guarded by the
-- token, the holder and a live lease.
-- $1 task id, $2 token, $3 agent_id, $4 branch, $5 commit, $6 summary,
-- $7 actor, $8 now
with clock as (select coalesce($8::timestamptz, now()) as now),
submitted as (
    update tasks t
    set state = 'awaiting_review', claim_token = null, claim_agent_id = null,
        claim_role = null, lease_expires_at = null, updated_at = clock.now
    from clock
    where t.id = $1 and t.state = 'working' and t.claim_token = $2
      and t.claim_agent_id = $3 and t.lease_expires_at > clock.now
    returning t.id, agentq_task_json(t) as task
),
claim_row as (
    update claims c set ended_at = clock.now, outcome = 'submitted'
    from submitted, clock where c.token = $2
),
submission as (
    insert into submissions (task_id, token, agent_id, branch, commit, summary, created_at)
    select s.id, $2, $3, $4, $5, $6, clock.now from submitted s, clock
    returning id
),
event as (
    insert into events (task_id, at, kind, actor, token, from_state, to_state, detail)
    select s.id, clock.now, 'submitted', $7, $2, 'working', 'awaiting_review',
           jsonb_build_object('branch', $4::text, 'commit', $5::text)
    from submitted s, clock
)
select task from submitted
