-- Bench floor `minimal`: $1 queued jobs, in one statement.
insert into minimal_jobs (state) select 'queued' from generate_series(1, $1::integer)
