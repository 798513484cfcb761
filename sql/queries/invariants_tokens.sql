-- Claims of one task whose token is not above every earlier claim's, in the
-- order the history recorded them (event ids grow with each committed claim
-- of a task: a claim waits for the previous holder's row lock).
select x.task_id, x.token, x.prev
from (select e.task_id, e.token,
             max(e.token) over (partition by e.task_id order by e.id
                                rows between unbounded preceding and 1 preceding) as prev
      from events e where e.kind = 'claimed') x
where x.token <= x.prev
