-- Done tasks without exactly one landed merge, and tasks merged more than once.
select t.id, t.state, count(m.id) filter (where m.status = 'merged') as merged
from tasks t left join merges m on m.task_id = t.id
group by t.id, t.state
having (t.state = 'done') <> (count(m.id) filter (where m.status = 'merged') = 1)
    or count(m.id) filter (where m.status = 'merged') > 1
