-- One merge per repository at a time, across servers (queue/services/
-- merger.hpp): held by the merger's own transaction until the outcome is
-- recorded, released by PostgreSQL if the server dies. An advisory lock, not
-- a row lock on repos, so approvals (whose insert into merges takes FOR KEY
-- SHARE on the repos row) never wait for a merge. The two-key form has a key
-- space of its own, apart from the one-key locks 7420000 and 7420001.
-- $1 repo id
select pg_advisory_xact_lock(7420002, $1::integer)
