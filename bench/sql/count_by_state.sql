-- Bench check: how many tasks are in state $1. The bench compares the
-- awaiting_review count with the cycles it counted, so a row that did not
-- really submit cannot report a rate.
select count(*) from tasks where state = $1::task_state
