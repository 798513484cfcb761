-- One task with everything that happened to it, as the contract's shape.
-- $1 task id
select jsonb_build_object(
    'task', agentq_task_json(t),
    'claims', coalesce((
        select jsonb_agg(jsonb_build_object(
            'token', c.token, 'agent', a.name, 'role', c.role, 'lease_s', c.lease_s,
            'claimed_at', agentq_time(c.claimed_at),
            'lease_expires_at', agentq_time(c.lease_expires_at),
            'heartbeat_at', agentq_time(c.heartbeat_at), 'progress', c.progress,
            'ended_at', agentq_time(c.ended_at), 'outcome', c.outcome) order by c.token)
        from claims c join agents a on a.id = c.agent_id where c.task_id = t.id), '[]'),
    'submissions', coalesce((
        select jsonb_agg(jsonb_build_object(
            'branch', s.branch, 'commit', s.commit, 'summary', s.summary,
            'worker', a.name, 'token', s.token,
            'created_at', agentq_time(s.created_at)) order by s.id)
        from submissions s join agents a on a.id = s.agent_id where s.task_id = t.id), '[]'),
    'reviews', coalesce((
        select jsonb_agg(jsonb_build_object(
            'verdict', r.verdict, 'reasons', r.reasons, 'reviewer', a.name,
            'token', r.token, 'created_at', agentq_time(r.created_at)) order by r.id)
        from reviews r join agents a on a.id = r.agent_id where r.task_id = t.id), '[]'),
    'feedback', coalesce((
        select jsonb_agg(jsonb_build_object(
            'round', f.round, 'source', f.source, 'author', f.author, 'text', f.text,
            'created_at', agentq_time(f.created_at)) order by f.id)
        from feedback f where f.task_id = t.id), '[]'),
    'events', coalesce((
        select jsonb_agg(jsonb_build_object(
            'at', agentq_time(e.at), 'kind', e.kind, 'actor', e.actor, 'token', e.token,
            'from_state', e.from_state, 'to_state', e.to_state, 'detail', e.detail)
            order by e.id)
        from events e where e.task_id = t.id), '[]')
) as answer
from tasks t where t.id = $1
