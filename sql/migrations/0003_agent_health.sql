-- 0003: a runner whose agent cannot run (issue 15; docs/api.md "Runner health").
--
-- A runner whose agent command keeps failing before doing any work (no
-- login, a missing binary) gives its claims back without charging the
-- task's attempt, and says so: tasks.uncharged_releases counts those
-- releases (a runner cannot give back attempts for ever: past the cap they
-- are charged), and the agent's runner_status is what it last reported
-- ('healthy' or 'unhealthy', with the reason) for `agentq agent list`.
alter table tasks add column uncharged_releases integer not null default 0
    check (uncharged_releases >= 0);
alter table agents add column runner_status text
    check (runner_status in ('healthy', 'unhealthy'));
alter table agents add column runner_status_reason text;
alter table agents add column runner_status_at timestamptz;
