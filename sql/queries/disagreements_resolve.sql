-- A person judges a disagreement, once. No row: unknown id or already judged.
-- $1 id, $2 decision, $3 note, $4 by, $5 now
insert into disagreement_resolutions (disagreement_id, decision, note, by_name, at)
select d.id, $2, $3, $4, coalesce($5::timestamptz, now()) from disagreements d where d.id = $1
on conflict (disagreement_id) do nothing
returning disagreement_id
