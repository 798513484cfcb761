-- A reviewer approves the latest submission. Nothing is merged here: the
-- approval records a pending merge and holds the lease open (infinity), so no
-- reaper or claim takes the task while the merger lands it exactly once
-- (docs/design.md, "Merges"). Guarded by the token, the holder, a live lease.
-- $1 task id, $2 token, $3 agent_id, $4 reasons, $5 actor, $6 now
with clock as (select coalesce($6::timestamptz, now()) as now),
approved as (
    update tasks t
    set lease_expires_at = 'infinity', updated_at = clock.now
    from clock
    where t.id = $1 and t.state = 'reviewing' and t.claim_token = $2
      and t.claim_agent_id = $3 and t.lease_expires_at > clock.now
      and t.lease_expires_at < 'infinity'
    returning t.id, t.repo_id
),
latest as (
    select s.id, s.commit from submissions s
    where s.task_id = $1 order by s.id desc limit 1
),
claims_row as (
    update claims c set lease_expires_at = 'infinity' from approved where c.token = $2
),
review as (
    insert into reviews (task_id, submission_id, token, agent_id, verdict, reasons, created_at)
    select a.id, l.id, $2, $3, 'approve', $4, clock.now from approved a, latest l, clock
),
merge as (
    insert into merges (task_id, submission_id, repo_id, commit, created_at)
    select a.id, l.id, a.repo_id, l.commit, clock.now from approved a, latest l, clock
    returning id
),
event as (
    insert into events (task_id, at, kind, actor, token, from_state, to_state, detail)
    select a.id, clock.now, 'approved', $5, $2, 'reviewing', 'reviewing',
           jsonb_build_object('merge_id', m.id, 'commit', l.commit)
    from approved a, latest l, merge m, clock
)
select m.id as merge_id from merge m
