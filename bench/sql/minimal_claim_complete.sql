-- Bench floor `minimal` (a pgbench script, not a query): claim the oldest
-- queued job with FOR UPDATE SKIP LOCKED and commit, then complete it in a
-- second transaction, as agentq's claim and submit are two. Two commits per
-- job, like every other row.
BEGIN;
UPDATE minimal_jobs SET state = 'running', locked_by = :client_id, locked_at = now()
WHERE id = (SELECT id FROM minimal_jobs WHERE state = 'queued' ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)
RETURNING id
\gset job_
COMMIT;
UPDATE minimal_jobs SET state = 'done', locked_by = null WHERE id = :job_id AND state = 'running';
