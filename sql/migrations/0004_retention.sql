-- 0004: retention of finished tasks (issue 13; docs/design.md "Retention").
--
-- Finished tasks do not pile up for ever: `agentq serve --retain-finished`
-- deletes done, failed and cancelled tasks some time after they finished,
-- each with every row that belongs to it (claims, events, submissions,
-- reviews, feedback, merges; the disagreement log only when
-- --retain-disagreements says so), in small batches.
--
-- The retention statement finds its tasks by finish time: a partial index
-- on finished rows only, so claims (which never look at finished tasks) do
-- not pay for it beyond the one insert when a task finishes.
create index tasks_finished_at on tasks (finished_at) where finished_at is not null;

-- The event history and the disagreement log stay append-only for every
-- statement but one: retention's, which deletes a whole task with all of
-- its history at once and says so by setting agentq.retention in its own
-- transaction (sql/queries/retention_begin.sql: set_config(..., true), so
-- it ends with that transaction). The checker of the history
-- (store::check_invariants) checks each task's chain from its 'added'
-- event, so a task that is gone with all of its events leaves every other
-- chain whole; a task whose events are gone while it stays is a violation.
-- This guards against mistakes, not against a database user who means
-- harm: such a user can set the setting, or drop the trigger.
create or replace function agentq_refuse_change() returns trigger language plpgsql as $$
begin
    if tg_op = 'DELETE' and current_setting('agentq.retention', true) = 'on' then
        return old;
    end if;
    raise exception 'agentq: % is append-only; % refused', tg_table_name, tg_op
        using errcode = 'restrict_violation';
end $$;

-- Deleting a task checks (foreign keys) that no row still points at it or
-- at its submissions: these two had no index, so each deleted row would
-- have cost a scan of the whole table.
create index merges_task on merges (task_id);
create index reviews_submission on reviews (submission_id);

-- Retention keeps a failed or cancelled task while any task depends on it,
-- and asks "who depends on this one?" for each such task. 0001's GIN index
-- on depends_on held every task (empty arrays too), so every claim's update
-- inserted into it and no query used it; this one holds only the tasks that
-- have dependencies, so the question is one small index probe (the planner
-- chose a scan of the whole table over the full index: 16 ms a task at
-- 23,000 tasks) and claims of tasks without dependencies no longer touch it.
drop index tasks_depends_on;
create index tasks_dependents on tasks using gin (depends_on) where depends_on <> '{}';
