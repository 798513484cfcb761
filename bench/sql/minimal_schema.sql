-- Bench floor `minimal`: the simplest correct SKIP LOCKED queue, one table and
-- one partial index on the claimable rows. What this
-- database does for a one-row claim + complete with nothing agentq adds
-- (no tokens, claims rows, events, dependencies or JSON). Loaded by
-- minimal_load.sql.
create table minimal_jobs (
    id bigserial primary key,
    state text not null default 'queued',
    locked_by integer,
    locked_at timestamptz
);
create index minimal_jobs_queued on minimal_jobs (id) where state = 'queued';
