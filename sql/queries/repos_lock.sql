-- One merge per repository at a time, across servers: held by the merging
-- transaction until it commits, released by PostgreSQL if the server dies.
-- $1 repo id
select id from repos where id = $1 for update
