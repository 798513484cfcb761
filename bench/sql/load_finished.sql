-- Bench setup: $2 finished (done) tasks in the repository named $1: rows a
-- claim must never have to look at.
insert into tasks (title, body, repo_id, state, attempt, finished_at)
select 'finished bench task ' || g, 'a finished benchmark task', r.id, 'done', 1, now()
from repos r, generate_series(1, $2::integer) g
where r.name = $1
