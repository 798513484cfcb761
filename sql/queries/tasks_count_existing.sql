-- How many of the given ids name tasks. $1 bigint[]
select count(*) from tasks where id = any($1::bigint[])
