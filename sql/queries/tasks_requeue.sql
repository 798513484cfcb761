-- A person sends a task back to the workers: from needs_human (granting one
-- more review round), failed or cancelled. The attempt budget starts afresh;
-- an optional note becomes feedback for the next attempt.
-- $1 task id, $2 actor, $3 note (null: none), $4 now
with clock as (select coalesce($4::timestamptz, now()) as now),
held as (
    select t.id, t.state, t.review_round from tasks t
    where t.id = $1 and t.state in ('needs_human', 'failed', 'cancelled')
      and not exists (select 1 from merges m where m.task_id = t.id and m.status = 'pending')
    for update
),
requeued as (
    update tasks t
    set state = 'queued', attempt = 0, run_after = clock.now, finished_at = null,
        max_review_rounds = case when h.state = 'needs_human'
            then least(100, greatest(t.max_review_rounds, t.review_round + 1))
            else t.max_review_rounds end,
        updated_at = clock.now
    from held h, clock where t.id = h.id
    returning t.id, agentq_task_json(t) as task
),
note as (
    insert into feedback (task_id, round, source, author, text, created_at)
    select h.id, h.review_round, 'human', $2, $3, clock.now
    from held h, requeued, clock where $3::text is not null
),
event as (
    insert into events (task_id, at, kind, actor, from_state, to_state, detail)
    select h.id, clock.now, 'requeued', $2, h.state, 'queued',
           jsonb_build_object('note', $3::text)
    from held h, requeued, clock
)
select task from requeued
