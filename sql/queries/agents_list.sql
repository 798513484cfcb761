select jsonb_build_object('name', name, 'role', role,
                          'created_at', agentq_time(created_at),
                          'revoked_at', agentq_time(revoked_at)) as agent
from agents order by name
