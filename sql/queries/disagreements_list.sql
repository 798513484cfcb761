-- $1 status: open, resolved or all; $2 limit
select agentq_disagreement_json(d) as disagreement
from disagreements d
where $1 = 'all'
   or ($1 = 'open') = not exists (select 1 from disagreement_resolutions r
                                  where r.disagreement_id = d.id)
order by d.id desc
limit $2
