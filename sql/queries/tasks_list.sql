-- A page of tasks, newest first, keyset-paginated on id.
-- $1 state (null: all), $2 queue (null: all), $3 limit, $4 after: ids below it (null: from the top)
-- $5 with_body: the whole task object; otherwise a summary, the body replaced by
-- its size (octet_length reads the stored size, not the text)
select t.id,
       case when $5 then agentq_task_json(t)
            else (agentq_task_json(t) - 'body') ||
                 jsonb_build_object('body_bytes', octet_length(t.body)) end as task
from tasks t
where ($1::task_state is null or t.state = $1::task_state)
  and ($2::text is null or t.queue = $2)
  and ($4::bigint is null or t.id < $4)
order by t.id desc
limit $3
