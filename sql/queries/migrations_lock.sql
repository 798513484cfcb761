-- Held by `agentq migrate` until its transaction ends: two processes that
-- migrate at once take turns, and the second finds nothing left to do.
select pg_advisory_xact_lock(7420000)
