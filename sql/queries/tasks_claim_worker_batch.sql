-- Claim for many parked workers with one filter in one statement (a batched
-- claim, queue/http/claim_waiters.cpp): up to one task each, exactly as that
-- many tasks_claim_worker calls with limit 1 would, in claim order: the best
-- candidate goes to the first claimant, the next to the second, ... Each
-- claimed task gets its own fresh fencing token (its row lock is held from
-- the draw to the commit, so each task's tokens increase), its own claims
-- row and its own events, under its claimant's name and lease.
-- $1 agent ids bigint[], $2 agent names text[], $3 queues text[] (null:
-- every queue), $4 lease_s integer[], $5 now (null: the database's clock),
-- $6 first lease in seconds integer[] (one element of each array per
-- claimant, in the order claimants are served). Answers the claimant's
-- position (1-based) with each task.
with clock as (select coalesce($5::timestamptz, now()) as now),
claimants as (
    select a.agent_id, a.name, a.lease_s, a.first_s, a.n
    from unnest($1::bigint[], $2::text[], $4::integer[], $6::integer[])
         with ordinality as a(agent_id, name, lease_s, first_s, n)
),
-- The searches of tasks_claim_worker, for as many tasks as there are claimants.
queued_candidates as (
    select t.id, t.priority, t.state as from_state, t.claim_token as old_token
    from tasks t, clock
    where t.state = 'queued' and t.run_after <= clock.now
      and ($3::text[] is null or t.queue = any($3::text[]))
      and not exists (select 1 from tasks d
                      where d.id = any(t.depends_on) and d.state <> 'done')
    order by t.priority desc, t.id
    limit cardinality($1::bigint[])
    for update of t skip locked
),
expired_candidates as (
    select t.id, t.priority, t.state as from_state, t.claim_token as old_token
    from tasks t
    where t.state = 'working' and t.lease_expires_at <= coalesce($5::timestamptz, now())
      and t.attempt < t.max_attempts
      and ($3::text[] is null or t.queue = any($3::text[]))
    order by t.lease_expires_at
    limit cardinality($1::bigint[])
    for update of t skip locked
),
candidates as (
    select c.*, row_number() over (order by c.priority desc, c.id) as n
    from (select * from queued_candidates
          union all select * from expired_candidates) c
    order by c.priority desc, c.id
    limit cardinality($1::bigint[])
),
pairs as (
    select x.id, x.from_state, x.old_token, a.agent_id, a.name, a.lease_s, a.first_s,
           a.n as claimant
    from candidates x join claimants a on a.n = x.n
),
expired_claims as (
    update claims c set ended_at = clock.now, outcome = 'expired'
    from pairs x, clock
    where c.token = x.old_token and c.ended_at is null
),
claimed as (
    update tasks t
    set state = 'working', attempt = t.attempt + 1,
        claim_token = nextval('fencing_token_seq'), claim_agent_id = p.agent_id,
        claim_role = 'worker',
        lease_expires_at = clock.now + make_interval(secs => p.first_s),
        updated_at = clock.now
    from pairs p, clock
    where t.id = p.id
    returning t.id, t.repo_id, t.claim_token, t.lease_expires_at, t.attempt,
              p.from_state, p.old_token, p.agent_id, p.name, p.lease_s, p.claimant,
              agentq_task_json(t) as task
),
new_claims as (
    insert into claims (token, task_id, agent_id, role, lease_s, claimed_at, lease_expires_at)
    select c.claim_token, c.id, c.agent_id, 'worker', c.lease_s, clock.now, c.lease_expires_at
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
        select c.id, 2, 'claimed', c.name, c.claim_token, 'queued', 'working',
               jsonb_build_object('attempt', c.attempt, 'lease_s', c.lease_s)
        from claimed c
    ) e
    order by e.task_id, e.seq
)
select c.claimant, c.id, c.claim_token as token,
       agentq_time(c.lease_expires_at) as lease_expires_at,
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
