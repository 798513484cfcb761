-- Before a submit, the server checks the commit against the repository, but
-- only for the live claim's holder (a stale token is refused without a fetch).
-- Read-only; also where a disagreement's diff stats come from. $1 task id
select t.claim_token, t.claim_agent_id, r.name as repo_name, r.url as repo_url,
       r.base_branch
from tasks t join repos r on r.id = t.repo_id
where t.id = $1
