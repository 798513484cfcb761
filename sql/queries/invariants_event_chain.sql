-- Events whose from_state is not the previous event's to_state: a transition
-- happened that the history does not show. Answers one row per break.
select x.task_id, x.id, x.kind, x.from_state, x.prev_to
from (select e.task_id, e.id, e.kind, e.from_state,
             lag(e.to_state) over (partition by e.task_id order by e.id) as prev_to,
             row_number() over (partition by e.task_id order by e.id) as n
      from events e) x
where x.n > 1 and x.from_state is distinct from x.prev_to
   or x.n = 1 and x.kind <> 'added'
