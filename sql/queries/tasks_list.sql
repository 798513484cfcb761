-- A page of tasks, newest first, keyset-paginated on id.
-- $1 state (null: all), $2 queue (null: all), $3 limit, $4 after: ids below it (null: from the top)
select t.id, agentq_task_json(t) as task
from tasks t
where ($1::task_state is null or t.state = $1::task_state)
  and ($2::text is null or t.queue = $2)
  and ($4::bigint is null or t.id < $4)
order by t.id desc
limit $3
