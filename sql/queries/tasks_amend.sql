-- A person rewrites a task's description (the spec-unclear loop of the
-- disagreement log). The old text is kept in the event history: an 'amended'
-- event that leaves the state as it is, detail {old_body, note}. Only tasks
-- nobody holds or is judging: queued, needs_human, failed, cancelled.
-- $1 task id, $2 actor, $3 new body, $4 note (null: none), $5 now
with clock as (select coalesce($5::timestamptz, now()) as now),
held as (
    select t.id, t.state, t.body from tasks t
    where t.id = $1 and t.state in ('queued', 'needs_human', 'failed', 'cancelled')
      and not exists (select 1 from merges m where m.task_id = t.id and m.status = 'pending')
    for update
),
amended as (
    update tasks t set body = $3, updated_at = clock.now
    from held h, clock where t.id = h.id
    returning t.id, t.state, agentq_task_json(t) as task
),
event as (
    insert into events (task_id, at, kind, actor, from_state, to_state, detail)
    select h.id, clock.now, 'amended', $2, h.state, h.state,
           jsonb_build_object('old_body', h.body, 'note', $4::text)
    from held h, amended, clock
)
select task, state from amended
