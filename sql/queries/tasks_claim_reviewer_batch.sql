-- Claim for many parked reviewers with one filter in one statement (a
-- batched claim, queue/http/claim_waiters.cpp): up to one submission each,
-- as tasks_claim_reviewer calls with limit 1 would. A reviewer never gets a
-- task it worked on (separation of duties, docs/api.md §4.6), so candidates
-- are the tasks some claimant may review, and they are matched greedily in
-- claim order: each candidate goes to the first claimant (in the order
-- claimants are served) that may review it and has none yet. A claimant left
-- without one when others got one is tried again by the caller. Each claimed
-- task gets its own fresh fencing token, claims row and events.
-- $1 agent ids bigint[], $2 agent names text[], $3 queues text[] (null:
-- every queue), $4 lease_s integer[], $5 now (null: the database's clock),
-- $6 first lease in seconds integer[] (one element of each array per
-- claimant). Answers the claimant's position (1-based) with each task, or
-- one row without a task (below).
with recursive clock as (select coalesce($5::timestamptz, now()) as now),
claimants as (
    select a.agent_id, a.name, a.lease_s, a.first_s, a.n
    from unnest($1::bigint[], $2::text[], $4::integer[], $6::integer[])
         with ordinality as a(agent_id, name, lease_s, first_s, n)
),
waiting_candidates as (
    select t.id, t.priority, t.state as from_state, t.claim_token as old_token
    from tasks t
    where t.state = 'awaiting_review'
      and ($3::text[] is null or t.queue = any($3::text[]))
      and exists (select 1 from claimants a
                  where not exists (select 1 from claims w
                                    where w.task_id = t.id and w.agent_id = a.agent_id
                                      and w.role = 'worker'))
    order by t.priority desc, t.id
    limit cardinality($1::bigint[])
    for update of t skip locked
),
expired_candidates as (
    select t.id, t.priority, t.state as from_state, t.claim_token as old_token
    from tasks t
    where t.state = 'reviewing' and t.lease_expires_at <= coalesce($5::timestamptz, now())
      and ($3::text[] is null or t.queue = any($3::text[]))
      and exists (select 1 from claimants a
                  where not exists (select 1 from claims w
                                    where w.task_id = t.id and w.agent_id = a.agent_id
                                      and w.role = 'worker'))
    order by t.lease_expires_at
    limit cardinality($1::bigint[])
    for update of t skip locked
),
candidates as (
    select c.*, row_number() over (order by c.priority desc, c.id) as n
    from (select * from waiting_candidates
          union all select * from expired_candidates) c
    order by c.priority desc, c.id
    limit cardinality($1::bigint[])
),
may_review as (
    select x.n as task_n, a.n as claimant_n
    from candidates x join claimants a
      on not exists (select 1 from claims w
                     where w.task_id = x.id and w.agent_id = a.agent_id and w.role = 'worker')
),
-- Candidate k (in claim order) takes the first claimant that may review it
-- and is not taken by candidates 1..k-1.
matched(task_n, claimant_n, taken) as (
    select 0::bigint, null::bigint, '{}'::bigint[]
    union all
    select m.task_n + 1, pick.claimant_n,
           case when pick.claimant_n is null then m.taken else m.taken || pick.claimant_n end
    from matched m
    left join lateral (
        select r.claimant_n from may_review r
        where r.task_n = m.task_n + 1 and r.claimant_n <> all(m.taken)
        order by r.claimant_n
        limit 1) pick on true
    where m.task_n < (select count(*) from candidates)
),
pairs as (
    select x.id, x.from_state, x.old_token, a.agent_id, a.name, a.lease_s, a.first_s,
           a.n as claimant
    from matched m
    join candidates x on x.n = m.task_n
    join claimants a on a.n = m.claimant_n
),
expired_claims as (
    update claims c set ended_at = clock.now, outcome = 'expired'
    from pairs x, clock
    where c.token = x.old_token and c.ended_at is null
),
claimed as (
    update tasks t
    set state = 'reviewing',
        claim_token = nextval('fencing_token_seq'), claim_agent_id = p.agent_id,
        claim_role = 'reviewer',
        lease_expires_at = clock.now + make_interval(secs => p.first_s),
        updated_at = clock.now
    from pairs p, clock
    where t.id = p.id
    returning t.id, t.repo_id, t.claim_token, t.lease_expires_at,
              p.from_state, p.old_token, p.agent_id, p.name, p.lease_s, p.claimant,
              agentq_task_json(t) as task
),
new_claims as (
    insert into claims (token, task_id, agent_id, role, lease_s, claimed_at, lease_expires_at)
    select c.claim_token, c.id, c.agent_id, 'reviewer', c.lease_s, clock.now, c.lease_expires_at
    from claimed c, clock
),
new_events as (
    insert into events (task_id, at, kind, actor, token, from_state, to_state, detail)
    select e.task_id, clock.now, e.kind, e.actor, e.token, e.from_state, e.to_state, e.detail
    from clock, (
        select c.id as task_id, 1 as seq, 'lease_expired' as kind, 'system' as actor,
               c.old_token as token, 'reviewing'::task_state as from_state,
               'awaiting_review'::task_state as to_state, '{}'::jsonb as detail
        from claimed c where c.old_token is not null
        union all
        select c.id, 2, 'claimed', c.name, c.claim_token, 'awaiting_review', 'reviewing',
               jsonb_build_object('lease_s', c.lease_s)
        from claimed c
    ) e
    order by e.task_id, e.seq
)
select false as nothing_to_review, c.claimant, c.id, c.claim_token as token,
       agentq_time(c.lease_expires_at) as lease_expires_at,
       c.old_token,
       c.task,
       (select agentq_repo_json(r) from repos r where r.id = c.repo_id) as repo,
       coalesce((select jsonb_agg(jsonb_build_object(
                    'round', f.round, 'source', f.source, 'author', f.author,
                    'text', f.text, 'created_at', agentq_time(f.created_at)) order by f.id)
                 from feedback f where f.task_id = c.id), '[]') as feedback,
       (select jsonb_build_object('branch', s.branch, 'commit', s.commit,
                                  'summary', s.summary, 'worker', a.name, 'token', s.token,
                                  'created_at', agentq_time(s.created_at))
        from submissions s join agents a on a.id = s.agent_id
        where s.task_id = c.id order by s.id desc limit 1) as submission
from claimed c
-- When nobody got a task: one row without a task that says whether the
-- filter holds nothing any reviewer could take (then the caller knows every
-- reviewer with this filter would find nothing, not only these claimants).
union all
select not exists (select 1 from tasks t
                   where t.state = 'awaiting_review'
                     and ($3::text[] is null or t.queue = any($3::text[])))
       and not exists (select 1 from tasks t
                       where t.state = 'reviewing' and t.lease_expires_at <= coalesce($5::timestamptz, now())
                         and ($3::text[] is null or t.queue = any($3::text[]))),
       null, null, null, null, null, null, null, null, null
where not exists (select 1 from claimed)
order by token
