-- Why did a holder's guarded update change nothing? Read-only; the caller
-- turns the answer into not_found / stale_token / forbidden / lease_expired /
-- invalid_state. $1 task id, $2 now (null: the database's clock)
select t.state, t.claim_token, t.claim_agent_id, t.claim_role,
       t.lease_expires_at <= coalesce($2::timestamptz, now()) as lease_expired,
       exists (select 1 from merges m where m.task_id = t.id and m.status = 'pending')
           as merge_pending
from tasks t where t.id = $1
