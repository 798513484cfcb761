-- Bench setup: $2 queued tasks in the repository named $1, all claimable now
-- (the defaults: queue 'default', priority 0), added in one statement.
insert into tasks (title, body, repo_id)
select 'bench task ' || g, 'a benchmark task', r.id
from repos r, generate_series(1, $2::integer) g
where r.name = $1
