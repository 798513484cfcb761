-- Bench check: put in front of a named query (the worker claim) to read the
-- plan PostgreSQL picks for it, without running it: which index it walks.
explain (costs off)
