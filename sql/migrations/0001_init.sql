-- 0001: the whole first schema of agentq.
--
-- Migrations are forward-only: never edit this file once it has shipped; add
-- 0002_*.sql instead. `agentq migrate` applies each file once, inside one
-- transaction, under an advisory lock (see queue/store/migrator.cpp).

-- The task state machine, said once here, once in queue/core/task_state.hpp,
-- and drawn in docs/design.md. The names are the contract's (§3).
create type task_state as enum (
    'queued', 'working', 'awaiting_review', 'reviewing',
    'done', 'failed', 'cancelled', 'needs_human'
);

create type agent_role as enum ('worker', 'reviewer', 'admin');

-- How a claim ended. A claim row with ended_at null is live (or expired but not
-- yet noticed: the lease tells which).
create type claim_outcome as enum (
    'submitted', 'released', 'expired', 'approved', 'rejected', 'cancelled'
);

-- Fencing tokens: one sequence for every claim of every task, so a token is
-- greater than every token handed out before it, across tasks, servers and
-- restarts (docs/api.md §4.2). Claims take a transaction-level advisory lock
-- before nextval (queries/tasks_claim_*.sql), so tokens are also committed in
-- the order they were drawn.
create sequence fencing_token_seq as bigint minvalue 1 no cycle;

create table repos (
    id          bigint generated always as identity primary key,
    name        text not null unique,
    url         text not null,
    base_branch text not null default 'main',
    created_at  timestamptz not null default now(),
    constraint repos_name_shape check (name ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$')
);

create table agents (
    id          bigint generated always as identity primary key,
    name        text not null unique,
    role        agent_role not null,
    -- sha256 of the bearer token; the token itself is shown once and never kept.
    token_hash  bytea not null unique,
    created_at  timestamptz not null default now(),
    revoked_at  timestamptz,
    constraint agents_name_shape check (name ~ '^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$')
);

create table tasks (
    id                bigint generated always as identity primary key,
    title             text not null,
    body              text not null,
    repo_id           bigint not null references repos (id),
    queue             text not null default 'default',
    state             task_state not null default 'queued',
    priority          integer not null default 0,
    run_after         timestamptz not null default now(),
    attempt           integer not null default 0,
    max_attempts      integer not null default 3,
    review_round      integer not null default 0,
    max_review_rounds integer not null default 3,
    depends_on        bigint[] not null default '{}',
    labels            jsonb not null default '[]',
    idempotency_key   text unique,
    -- The current claim, if any. The claims table keeps every claim; these
    -- columns are the one the guarded updates compare against.
    claim_token       bigint,
    claim_agent_id    bigint references agents (id),
    claim_role        agent_role,
    lease_expires_at  timestamptz,
    created_at        timestamptz not null default now(),
    updated_at        timestamptz not null default now(),
    finished_at       timestamptz,

    constraint tasks_held_iff_claimed check (
        (state in ('working', 'reviewing')) = (claim_token is not null)),
    constraint tasks_claim_complete check (
        (claim_token is null) = (claim_agent_id is null)
        and (claim_token is null) = (claim_role is null)
        and (claim_token is null) = (lease_expires_at is null)),
    constraint tasks_finished_iff_final check (
        (state in ('done', 'failed', 'cancelled')) = (finished_at is not null)),
    constraint tasks_budgets check (
        max_attempts between 1 and 100 and max_review_rounds between 1 and 100
        and attempt >= 0 and review_round >= 0),
    constraint tasks_queue_shape check (queue ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'),
    constraint tasks_labels_array check (jsonb_typeof(labels) = 'array')
);

-- What a worker claim scans: queued rows, best first. Partial, so a million
-- finished tasks cost the claim nothing.
create index tasks_claimable_worker on tasks (queue, priority desc, id)
    where state = 'queued';
create index tasks_claimable_reviewer on tasks (queue, priority desc, id)
    where state = 'awaiting_review';
-- What the reaper (and a claim of an expired lease) scans.
create index tasks_held_by_lease on tasks (lease_expires_at)
    where state in ('working', 'reviewing');
create index tasks_state_id on tasks (state, id);
create index tasks_depends_on on tasks using gin (depends_on);

create table claims (
    token            bigint primary key,
    task_id          bigint not null references tasks (id),
    agent_id         bigint not null references agents (id),
    role             agent_role not null,
    lease_s          integer not null,
    claimed_at       timestamptz not null,
    lease_expires_at timestamptz not null,
    -- The latest heartbeat and the progress line it carried.
    heartbeat_at     timestamptz,
    progress         text,
    ended_at         timestamptz,
    outcome          claim_outcome,
    constraint claims_ended_with_outcome check ((ended_at is null) = (outcome is null)),
    constraint claims_role_not_admin check (role in ('worker', 'reviewer'))
);
create index claims_task on claims (task_id, token);
create index claims_agent_task on claims (agent_id, task_id) where role = 'worker';

create table submissions (
    id         bigint generated always as identity primary key,
    task_id    bigint not null references tasks (id),
    token      bigint not null unique references claims (token),
    agent_id   bigint not null references agents (id),
    branch     text not null,
    commit     text not null,
    summary    text not null,
    created_at timestamptz not null default now(),
    constraint submissions_commit_shape check (commit ~ '^[0-9a-f]{40}$')
);
create index submissions_task on submissions (task_id, id);

create table reviews (
    id            bigint generated always as identity primary key,
    task_id       bigint not null references tasks (id),
    submission_id bigint not null references submissions (id),
    token         bigint not null unique references claims (token),
    agent_id      bigint not null references agents (id),
    verdict       text not null check (verdict in ('approve', 'reject')),
    reasons       text not null,
    created_at    timestamptz not null default now()
);
create index reviews_task on reviews (task_id, id);

-- What a worker is told on its next attempt: reviewers' rejections, merge
-- conflicts, notes from people who requeued the task.
create table feedback (
    id         bigint generated always as identity primary key,
    task_id    bigint not null references tasks (id),
    round      integer not null,
    source     text not null check (source in ('review', 'merge_conflict', 'human')),
    author     text not null,
    text       text not null,
    created_at timestamptz not null default now()
);
create index feedback_task on feedback (task_id, id);

-- The merge protocol (docs/design.md): an approval records its merge here
-- before any push; the merger turns 'pending' into 'merged' or 'conflict'
-- exactly once, also after a crash.
create table merges (
    id            bigint generated always as identity primary key,
    task_id       bigint not null references tasks (id),
    submission_id bigint not null unique references submissions (id),
    repo_id       bigint not null references repos (id),
    commit        text not null,
    status        text not null default 'pending'
                  check (status in ('pending', 'merged', 'conflict')),
    merge_commit  text,
    detail        text,
    created_at    timestamptz not null default now(),
    finished_at   timestamptz,
    constraint merges_finished check ((status = 'pending') = (finished_at is null))
);
create index merges_pending on merges (repo_id, id) where status = 'pending';

-- The disagreement log (docs/api.md §4.7): every rejection and every human
-- override, with both sides' words. Rows are never edited: a trigger below
-- refuses it. Resolutions are rows of their own.
create table disagreements (
    id             bigint generated always as identity primary key,
    task_id        bigint not null references tasks (id),
    kind           text not null default 'rejection'
                   check (kind in ('rejection', 'human_override')),
    round          integer not null,
    worker         text not null,
    worker_summary text not null,
    reviewer       text not null,
    reasons        text not null,
    commit         text not null,
    created_at     timestamptz not null default now()
);
create index disagreements_task on disagreements (task_id);

create table disagreement_resolutions (
    disagreement_id bigint primary key references disagreements (id),
    decision        text not null
                    check (decision in ('reviewer_right', 'worker_right', 'spec_unclear')),
    note            text not null,
    by_name         text not null,
    at              timestamptz not null default now()
);

-- Append-only history of every transition, with its token and actor
-- (docs/api.md §4.4). Enough to replay and check every invariant after a crash.
create table events (
    id         bigint generated always as identity primary key,
    task_id    bigint not null references tasks (id),
    at         timestamptz not null,
    kind       text not null,
    actor      text not null,
    token      bigint,
    from_state task_state,
    to_state   task_state,
    detail     jsonb not null default '{}'
);
create index events_task on events (task_id, id);

create function agentq_refuse_change() returns trigger language plpgsql as $$
begin
    raise exception 'agentq: % is append-only; % refused', tg_table_name, tg_op
        using errcode = 'restrict_violation';
end $$;

create trigger events_append_only before update or delete on events
    for each row execute function agentq_refuse_change();
create trigger disagreements_append_only before update or delete on disagreements
    for each row execute function agentq_refuse_change();
create trigger disagreement_resolutions_append_only
    before update or delete on disagreement_resolutions
    for each row execute function agentq_refuse_change();

-- Wake long-polling claimers: a task became claimable for some role (or a
-- dependency finished). Payload: the queue name. Sent at commit.
create function agentq_notify_claimable() returns trigger language plpgsql as $$
begin
    if new.state in ('queued', 'awaiting_review', 'done')
       and (tg_op = 'INSERT' or old.state is distinct from new.state) then
        perform pg_notify('agentq_claimable', new.queue);
    end if;
    return null;
end $$;

create trigger tasks_notify_claimable after insert or update of state on tasks
    for each row execute function agentq_notify_claimable();

-- RFC 3339 UTC with microseconds, the contract's time format.
create function agentq_time(t timestamptz) returns text
    language sql immutable strict as $$
    select to_char(t at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
$$;

-- The task object of docs/api.md §5, built in one place.
create function agentq_task_json(t tasks) returns jsonb language sql stable as $$
    select jsonb_build_object(
        'id', t.id, 'title', t.title, 'body', t.body,
        'repo', (select r.name from repos r where r.id = t.repo_id),
        'queue', t.queue, 'state', t.state, 'priority', t.priority,
        'attempt', t.attempt, 'review_round', t.review_round,
        'max_attempts', t.max_attempts, 'max_review_rounds', t.max_review_rounds,
        'depends_on', to_jsonb(t.depends_on), 'labels', t.labels,
        'idempotency_key', t.idempotency_key,
        'run_after', agentq_time(t.run_after),
        'created_at', agentq_time(t.created_at),
        'updated_at', agentq_time(t.updated_at),
        'finished_at', agentq_time(t.finished_at))
$$;

create function agentq_repo_json(r repos) returns jsonb language sql stable as $$
    select jsonb_build_object('name', r.name, 'url', r.url,
                              'base_branch', r.base_branch,
                              'created_at', agentq_time(r.created_at))
$$;

-- The disagreement object of docs/api.md §5, with the task's title for people.
create function agentq_disagreement_json(d disagreements) returns jsonb
    language sql stable as $$
    select jsonb_build_object(
        'id', d.id, 'task_id', d.task_id, 'kind', d.kind,
        'task_title', (select t.title from tasks t where t.id = d.task_id),
        'round', d.round, 'worker', d.worker, 'worker_summary', d.worker_summary,
        'reviewer', d.reviewer, 'reasons', d.reasons, 'commit', d.commit,
        'created_at', agentq_time(d.created_at),
        'status', case when r.disagreement_id is null then 'open' else 'resolved' end,
        'resolution', case when r.disagreement_id is null then null else
            jsonb_build_object('decision', r.decision, 'note', r.note,
                               'by', r.by_name, 'at', agentq_time(r.at)) end)
    from (select 1) one
    left join disagreement_resolutions r on r.disagreement_id = d.id
$$;
