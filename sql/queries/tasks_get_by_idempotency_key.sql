-- $1 idempotency_key
select t.id, agentq_task_json(t) as task from tasks t where t.idempotency_key = $1
