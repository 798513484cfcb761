-- The event history after a cursor, oldest first (GET /v1/events), for pages
-- that follow the queue. $1 after (an event id; 0: from the start), $2 limit
select e.id,
       jsonb_build_object('id', e.id, 'task_id', e.task_id, 'at', agentq_time(e.at),
                          'kind', e.kind, 'actor', e.actor, 'token', e.token,
                          'from_state', e.from_state, 'to_state', e.to_state,
                          'detail', e.detail) as event
from events e
where e.id > $1
order by e.id
limit $2
