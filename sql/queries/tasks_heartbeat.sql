-- Extend a live lease by the claim's lease_s, and keep the progress line.
-- Refused (no row) unless $2 is the current token of a lease still running,
-- held by agent $3. A lease held open for a merge (infinity) is not extended.
-- $1 task id, $2 token, $3 agent_id, $4 progress (null: keep), $5 now
with clock as (select coalesce($5::timestamptz, now()) as now),
extended as (
    update tasks t
    set lease_expires_at = clock.now + make_interval(secs => c.lease_s)
    from claims c, clock
    where t.id = $1 and t.claim_token = $2 and t.claim_agent_id = $3
      and t.lease_expires_at > clock.now and t.lease_expires_at < 'infinity'
      and c.token = t.claim_token
    returning t.lease_expires_at
),
claim_row as (
    update claims c
    set lease_expires_at = e.lease_expires_at, heartbeat_at = clock.now,
        progress = coalesce($4, c.progress)
    from extended e, clock
    where c.token = $2
)
select agentq_time(lease_expires_at) as lease_expires_at from extended
