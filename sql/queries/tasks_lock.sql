-- Lock a task's row before a person's transition (cancel, requeue). The
-- transition statement that follows then runs on a fresh snapshot, so it sees
-- a merge that an approval committed while this waited: under READ COMMITTED
-- a statement re-checks the locked row, but not its subqueries.
-- $1 task id
select id from tasks where id = $1 for update
