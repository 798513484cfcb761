-- Retention (docs/design.md "Retention"): delete up to $3 finished tasks
-- (done, failed, cancelled) that finished more than $1 seconds ago, each
-- with every row that belongs to it, oldest first. Never an unfinished task:
-- the state is re-checked on the row after its lock (EvalPlanQual), so a
-- task requeued since the snapshot is left alone, and a row another
-- transaction holds is skipped, not waited for.
--   * A task with disagreement entries is kept for ever when $2 is null,
--     else until it finished more than max($1, $2) seconds ago; then its
--     entries and their resolutions go with it.
--   * A failed or cancelled task is kept while any task depends on it: a
--     missing dependency counts as met (tasks_claim_worker.sql), which is
--     right only for a done one. (A dependency being added is locked by the
--     add, tasks_count_existing.sql, and skipped here.) The question is a
--     probe of the partial index tasks_dependents (migration 0004), whose
--     predicate the `depends_on <> '{}'` repeats.
-- One statement: the foreign keys are checked at its end, when the task's
-- rows are all gone. Answers how many tasks (and events) it deleted.
-- $1 finished age in seconds, $2 age in seconds for tasks with disagreement
-- entries (null: kept for ever), $3 limit, $4 now (null: the database's clock)
with clock as (select coalesce($4::timestamptz, now()) as now),
doomed as (
    select t.id from tasks t, clock
    where t.finished_at < clock.now - make_interval(secs => $1::bigint)
      and t.state in ('done', 'failed', 'cancelled')
      and (not exists (select 1 from disagreements d where d.task_id = t.id)
           or ($2::bigint is not null and t.finished_at < clock.now
                   - make_interval(secs => greatest($1::bigint, $2::bigint))))
      and (t.state = 'done'
           or not exists (select 1 from tasks u
                           where u.depends_on <> '{}' and u.depends_on @> array[t.id]))
    order by t.finished_at
    limit $3
    for update of t skip locked
),
gone_resolutions as (
    delete from disagreement_resolutions r using disagreements d, doomed x
    where r.disagreement_id = d.id and d.task_id = x.id
),
gone_disagreements as (delete from disagreements d using doomed x where d.task_id = x.id),
gone_merges as (delete from merges m using doomed x where m.task_id = x.id),
gone_reviews as (delete from reviews r using doomed x where r.task_id = x.id),
gone_submissions as (delete from submissions s using doomed x where s.task_id = x.id),
gone_feedback as (delete from feedback f using doomed x where f.task_id = x.id),
gone_events as (delete from events e using doomed x where e.task_id = x.id returning e.id),
gone_claims as (delete from claims c using doomed x where c.task_id = x.id),
gone_tasks as (delete from tasks t using doomed x where t.id = x.id returning t.id)
select (select count(*) from gone_tasks) as tasks,
       (select count(*) from gone_events) as events
