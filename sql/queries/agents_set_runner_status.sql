-- A runner reports its health (docs/api.md "Runner health").
-- $1 agent id, $2 status ('healthy' | 'unhealthy'), $3 reason (or null)
update agents
set runner_status = $2, runner_status_reason = $3, runner_status_at = now()
where id = $1 and revoked_at is null
returning jsonb_build_object('name', name, 'status', runner_status,
                             'reason', runner_status_reason,
                             'at', agentq_time(runner_status_at)) as runner
