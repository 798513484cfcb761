-- /metrics: how many tasks are in each state (states with none are absent).
select state::text as state, count(*) as tasks from tasks group by state order by state
