-- Tasks without any history: every task has its 'added' event, and
-- retention deletes a task together with all of its events, never the
-- events alone (sql/queries/tasks_delete_finished.sql).
select t.id from tasks t where not exists (select 1 from events e where e.task_id = t.id)
