select jsonb_build_object('name', name, 'role', role,
                          'created_at', agentq_time(created_at),
                          'revoked_at', agentq_time(revoked_at),
                          'runner', case when runner_status is null then null
                                         else jsonb_build_object(
                                             'status', runner_status,
                                             'reason', runner_status_reason,
                                             'at', agentq_time(runner_status_at)) end) as agent
from agents order by name
