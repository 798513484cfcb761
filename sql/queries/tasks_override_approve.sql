-- A person approves the last submission of a task that waits in needs_human,
-- overriding the reviewer who rejected it. Like a reviewer's approval, this
-- only records a pending merge: the merger lands it. The override goes into
-- the disagreement log with both sides' words (the last rejection's reviewer
-- and reasons, the worker and summary) and is resolved at once as
-- worker_right, with the person's note (docs/api.md §4.7).
-- $1 task id, $2 person, $3 note, $4 now
with clock as (select coalesce($4::timestamptz, now()) as now),
held as (
    select t.id, t.repo_id, t.review_round from tasks t
    where t.id = $1 and t.state = 'needs_human'
      and not exists (select 1 from merges m where m.task_id = t.id and m.status = 'pending')
    for update
),
latest as (
    select s.id, s.commit, s.summary, a.name as worker
    from submissions s join agents a on a.id = s.agent_id
    where s.task_id = $1 order by s.id desc limit 1
),
last_rejection as (
    select r.reasons, a.name as reviewer
    from reviews r join agents a on a.id = r.agent_id
    where r.task_id = $1 and r.verdict = 'reject' order by r.id desc limit 1
),
merge as (
    insert into merges (task_id, submission_id, repo_id, commit, created_at)
    select h.id, l.id, h.repo_id, l.commit, clock.now
    from held h, latest l, clock
    where not exists (select 1 from merges m where m.submission_id = l.id)
    returning id, task_id
),
touched as (
    update tasks t set updated_at = clock.now from merge m, clock where t.id = m.task_id
),
disagreement as (
    insert into disagreements (task_id, kind, round, worker, worker_summary,
                               reviewer, reasons, commit, created_at)
    select h.id, 'human_override', h.review_round, l.worker, l.summary,
           coalesce(x.reviewer, ''), coalesce(x.reasons, ''), l.commit, clock.now
    from held h, latest l, merge m, clock left join last_rejection x on true
    returning id
),
resolution as (
    insert into disagreement_resolutions (disagreement_id, decision, note, by_name, at)
    select d.id, 'worker_right', coalesce($3, ''), $2, clock.now from disagreement d, clock
),
event as (
    insert into events (task_id, at, kind, actor, from_state, to_state, detail)
    select h.id, clock.now, 'override_approved', $2, 'needs_human', 'needs_human',
           jsonb_build_object('merge_id', m.id, 'commit', l.commit, 'note', $3::text,
                              'disagreement_id', d.id)
    from held h, latest l, merge m, disagreement d, clock
)
select m.id as merge_id, d.id as disagreement_id from merge m, disagreement d
