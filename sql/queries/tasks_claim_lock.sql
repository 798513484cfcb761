-- Taken by every claim before it draws tokens and held to its commit, so
-- tokens are committed in the order they are drawn: a token is greater than
-- every token any earlier claim handed out (docs/api.md §4.2). A claim statement
-- claims a batch, so concurrent callers can share one turn of this lock.
select pg_advisory_xact_lock(7420001)
