-- Bench setup: write every dirty page out now, so the row that follows does
-- not pay for its own bulk load's writes (a superuser or pg_checkpoint).
checkpoint
