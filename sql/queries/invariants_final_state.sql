-- Tasks whose state is not where their history ends.
select t.id, t.state, last.to_state
from tasks t
join lateral (select e.to_state from events e where e.task_id = t.id
              order by e.id desc limit 1) last on true
where last.to_state is distinct from t.state
