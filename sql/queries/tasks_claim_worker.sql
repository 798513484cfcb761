-- Claim up to $4 tasks for a worker: queued tasks whose run_after has come and
-- whose dependencies are all done, or working tasks whose lease ran out (with
-- attempts left). Highest priority first, then oldest. Each claimed task gets
-- a fresh fencing token, a claims row, and its events; an expired claim it
-- takes over is closed as 'expired' in the same statement.
-- $1 agent_id, $2 agent name, $3 queues text[] (null: every queue), $4 limit,
-- $5 lease_s, $6 now (null: the database's clock), $7 the first lease in
-- seconds (store::claim passes $5 when no shorter first lease applies)
with clock as (select coalesce($6::timestamptz, now()) as now),
-- Two searches, each walking an index in claim order (0002's partial index
-- for queued rows, tasks_held_by_lease (state, lease_expires_at) for expired
-- ones) and locking what it may take; the best `limit` of both are claimed.
-- A row locked but not taken is free again at commit. The lease bound is
-- written against the clock itself, not the clock CTE, so it is an index
-- condition: the search stops at the first live lease instead of reading
-- every held task (0005; docs/benchmarks-profile.md).
queued_candidates as (
    select t.id, t.priority, t.state as from_state, t.claim_token as old_token
    from tasks t, clock
    where t.state = 'queued' and t.run_after <= clock.now
      and ($3::text[] is null or t.queue = any($3::text[]))
      and not exists (select 1 from tasks d
                      where d.id = any(t.depends_on) and d.state <> 'done')
    order by t.priority desc, t.id
    limit $4
    for update of t skip locked
),
expired_candidates as (
    select t.id, t.priority, t.state as from_state, t.claim_token as old_token
    from tasks t
    where t.state = 'working' and t.lease_expires_at <= coalesce($6::timestamptz, now())
      and t.attempt < t.max_attempts
      and ($3::text[] is null or t.queue = any($3::text[]))
    order by t.lease_expires_at
    limit $4
    for update of t skip locked
),
candidates as (
    select * from (select * from queued_candidates
                   union all select * from expired_candidates) c
    order by c.priority desc, c.id
    limit $4
),
expired_claims as (
    update claims c set ended_at = clock.now, outcome = 'expired'
    from candidates x, clock
    where c.token = x.old_token and c.ended_at is null
),
claimed as (
    update tasks t
    set state = 'working', attempt = t.attempt + 1,
        claim_token = nextval('fencing_token_seq'), claim_agent_id = $1,
        claim_role = 'worker',
        -- The first lease is short ($7): a claim that nobody acts on (a
        -- stalled runner's long-poll answer) comes back in seconds; the first
        -- heartbeat extends it by the whole lease_s.
        lease_expires_at = clock.now + make_interval(secs => $7::integer),
        updated_at = clock.now
    from candidates x, clock
    where t.id = x.id
    returning t.id, t.repo_id, t.claim_token, t.lease_expires_at, t.attempt,
              x.from_state, x.old_token, agentq_task_json(t) as task
),
new_claims as (
    insert into claims (token, task_id, agent_id, role, lease_s, claimed_at, lease_expires_at)
    select c.claim_token, c.id, $1, 'worker', $5, clock.now, c.lease_expires_at
    from claimed c, clock
),
new_events as (
    insert into events (task_id, at, kind, actor, token, from_state, to_state, detail)
    select e.task_id, clock.now, e.kind, e.actor, e.token, e.from_state, e.to_state, e.detail
    from clock, (
        select c.id as task_id, 1 as seq, 'lease_expired' as kind, 'system' as actor,
               c.old_token as token, 'working'::task_state as from_state,
               'queued'::task_state as to_state, '{}'::jsonb as detail
        from claimed c where c.old_token is not null
        union all
        select c.id, 2, 'claimed', $2, c.claim_token, 'queued', 'working',
               jsonb_build_object('attempt', c.attempt, 'lease_s', $5::integer)
        from claimed c
    ) e
    order by e.task_id, e.seq
)
select c.id, c.claim_token as token, agentq_time(c.lease_expires_at) as lease_expires_at,
       c.old_token,
       c.task,
       (select agentq_repo_json(r) from repos r where r.id = c.repo_id) as repo,
       coalesce((select jsonb_agg(jsonb_build_object(
                    'round', f.round, 'source', f.source, 'author', f.author,
                    'text', f.text, 'created_at', agentq_time(f.created_at)) order by f.id)
                 from feedback f where f.task_id = c.id), '[]') as feedback,
       null::jsonb as submission
from claimed c
order by c.claim_token
