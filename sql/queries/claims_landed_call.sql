-- What a holder's call with this token already did, if it landed: a retried
-- call (the answer was lost, the server died after its commit) finds its own
-- event here and answers the same success (docs/api.md, "Retries").
-- $1 task id, $2 token, $3 the event kind ('submitted', 'released', 'rejected')
-- Answers the event's to_state and detail, who held the claim, and the task
-- as it is now.
select e.to_state, e.detail, c.agent_id, agentq_task_json(t) as task
from events e
join claims c on c.token = e.token
join tasks t on t.id = e.task_id
where e.task_id = $1 and e.token = $2 and e.kind = $3
order by e.id desc
limit 1
