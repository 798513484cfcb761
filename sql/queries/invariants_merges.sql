-- Done tasks without exactly one landed merge, tasks merged more than once,
-- and failed or cancelled tasks with a merge still pending or landed.
select t.id, t.state, count(m.id) filter (where m.status = 'merged') as merged
from tasks t left join merges m on m.task_id = t.id
group by t.id, t.state
having (t.state = 'done') <> (count(m.id) filter (where m.status = 'merged') = 1)
    or count(m.id) filter (where m.status = 'merged') > 1
    or (t.state in ('failed', 'cancelled')
        and count(m.id) filter (where m.status in ('pending', 'merged')) > 0)
