-- Add a task; a repeated idempotency key inserts nothing (the caller then
-- reads the first task with tasks_get_by_idempotency_key).
-- $1 title, $2 body, $3 repo_id, $4 queue, $5 priority, $6 run_after (null: now),
-- $7 max_attempts, $8 max_review_rounds, $9 depends_on bigint[], $10 labels jsonb,
-- $11 idempotency_key, $12 actor, $13 now (null: the database's clock)
with clock as (select coalesce($13::timestamptz, now()) as now),
inserted as (
    insert into tasks (title, body, repo_id, queue, priority, run_after,
                       max_attempts, max_review_rounds, depends_on, labels,
                       idempotency_key, created_at, updated_at)
    select $1, $2, $3, $4, $5, coalesce($6::timestamptz, clock.now),
           $7, $8, $9::bigint[], $10::jsonb, $11, clock.now, clock.now
    from clock
    on conflict (idempotency_key) do nothing
    returning tasks.id, agentq_task_json(tasks) as task
),
event as (
    insert into events (task_id, at, kind, actor, to_state)
    select inserted.id, clock.now, 'added', $12, 'queued' from inserted, clock
)
select id, task from inserted
