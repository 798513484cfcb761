-- How many of the given ids name tasks. $1 bigint[]
-- Each is locked (key share, the lock a foreign key takes) until the add
-- commits: retention keeps a failed or cancelled task while a task depends
-- on it, and skips locked rows, so it cannot delete a dependency under an
-- add that is about to depend on it (sql/queries/tasks_delete_finished.sql).
-- A task retention deleted first is not counted: the add is refused.
select count(*) from (select 1 from tasks where id = any($1::bigint[]) for key share) named
