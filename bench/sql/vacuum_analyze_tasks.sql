-- Bench setup: after a bulk load, give the planner the statistics autovacuum
-- would give it a moment later, so no row of the bench races autovacuum.
vacuum analyze tasks
