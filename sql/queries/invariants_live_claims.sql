-- Tasks with more than one live claim, or whose live claim is not the one
-- the task row names.
select t.id, count(c.token) as live
from tasks t left join claims c on c.task_id = t.id and c.ended_at is null
group by t.id, t.claim_token
having count(c.token) > 1
    or (count(c.token) = 1 and max(c.token) is distinct from t.claim_token)
    or (count(c.token) = 0 and t.claim_token is not null)
