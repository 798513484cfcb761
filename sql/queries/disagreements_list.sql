-- $1 status: open, resolved or all; $2 limit; $3 after: ids below it (null: from the top)
select agentq_disagreement_json(d) as disagreement
from disagreements d
where ($1 = 'all'
       or ($1 = 'open') = not exists (select 1 from disagreement_resolutions r
                                      where r.disagreement_id = d.id))
  and ($3::bigint is null or d.id < $3)
order by d.id desc
limit $2
