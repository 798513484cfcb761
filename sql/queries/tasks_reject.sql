-- A reviewer rejects the latest submission: the reasons become feedback for
-- the next round and a disagreement in the log. The task goes back to queued
-- (fresh attempt budget, no backoff), or to needs_human when this was the last
-- review round. Guarded by the token, the holder and a live lease.
-- $1 task id, $2 token, $3 agent_id, $4 reasons, $5 actor, $6 now
with clock as (select coalesce($6::timestamptz, now()) as now),
rejected as (
    update tasks t
    set state = case when t.review_round + 1 >= t.max_review_rounds
                     then 'needs_human'::task_state else 'queued'::task_state end,
        review_round = t.review_round + 1, attempt = 0, run_after = clock.now,
        claim_token = null, claim_agent_id = null, claim_role = null,
        lease_expires_at = null, updated_at = clock.now
    from clock
    where t.id = $1 and t.state = 'reviewing' and t.claim_token = $2
      and t.claim_agent_id = $3 and t.lease_expires_at > clock.now
      and t.lease_expires_at < 'infinity'
    returning t.id, t.state, t.review_round, agentq_task_json(t) as task
),
latest as (
    select s.id, s.summary, s.commit, a.name as worker
    from submissions s join agents a on a.id = s.agent_id
    where s.task_id = $1 order by s.id desc limit 1
),
claim_row as (
    update claims c set ended_at = clock.now, outcome = 'rejected'
    from rejected, clock where c.token = $2
),
review as (
    insert into reviews (task_id, submission_id, token, agent_id, verdict, reasons, created_at)
    select r.id, l.id, $2, $3, 'reject', $4, clock.now from rejected r, latest l, clock
),
note as (
    insert into feedback (task_id, round, source, author, text, created_at)
    select r.id, r.review_round, 'review', $5, $4, clock.now from rejected r, clock
),
disagreement as (
    insert into disagreements (task_id, kind, round, worker, worker_summary,
                               reviewer, reasons, commit, created_at)
    select r.id, 'rejection', r.review_round, l.worker, l.summary, $5, $4, l.commit, clock.now
    from rejected r, latest l, clock
    returning id
),
event as (
    insert into events (task_id, at, kind, actor, token, from_state, to_state, detail)
    select r.id, clock.now, 'rejected', $5, $2, 'reviewing', r.state,
           jsonb_build_object('round', r.review_round, 'disagreement_id', d.id)
    from rejected r, disagreement d, clock
)
select r.state, r.task, d.id as disagreement_id from rejected r, disagreement d
