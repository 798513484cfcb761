-- $1 id
select 1 from disagreements where id = $1
