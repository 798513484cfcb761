-- /metrics: how many tasks are in each state, one index-only count of
-- tasks_state_id per state (no scan of the table, and none of the event
-- history). Its cost grows with the tasks the table holds, which retention
-- (--retain-finished) bounds.
select s.state::text as state, n.tasks
from unnest(enum_range(null::task_state)) s(state),
     lateral (select count(*) as tasks from tasks t where t.state = s.state) n
order by s.state
