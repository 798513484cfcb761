-- The agreement table (GET /v1/agreement): for each worker, reviewer and
-- repository, what happened to the submissions. One row per (scope, name).
--   submissions          worker, repo: submissions made; reviewer: reviews given
--   approved             reviews that approved
--   approved_first_time  approvals of a task's first submission
--   rejected             rejections (each is one disagreement of kind 'rejection')
--   reviewer_right, worker_right, spec_unclear, open: how those rejections
--                        were judged (open: not yet)
-- Human overrides are not rejections and are not counted here.
with submitted as (
    select s.id, w.name as worker, r.name as repo,
           s.id = min(s.id) over (partition by s.task_id) as first_of_task
    from submissions s
    join agents w on w.id = s.agent_id
    join tasks t on t.id = s.task_id
    join repos r on r.id = t.repo_id
),
facts as (
    -- a submission counts for its worker and repository
    select worker, null::text as reviewer, repo, 1 as made, 0 as judged, 0 as approved,
           0 as approved_first, 0 as rejected, null::text as decision
    from submitted
    union all
    -- a review counts for the reviewer (as judged) and, if it approved, for all three
    select s.worker, a.name, s.repo, 0, 1, (v.verdict = 'approve')::int,
           (v.verdict = 'approve' and s.first_of_task)::int, 0, null
    from reviews v
    join agents a on a.id = v.agent_id
    join submitted s on s.id = v.submission_id
    union all
    -- a rejection, and how a person judged it
    select d.worker, d.reviewer, r.name, 0, 0, 0, 0, 1, coalesce(res.decision, 'open')
    from disagreements d
    join tasks t on t.id = d.task_id
    join repos r on r.id = t.repo_id
    left join disagreement_resolutions res on res.disagreement_id = d.id
    where d.kind = 'rejection'
)
select k.scope, k.name,
       sum(case when k.scope = 'reviewer' then f.judged else f.made end) as submissions,
       sum(f.approved) as approved,
       sum(f.approved_first) as approved_first_time,
       sum(f.rejected) as rejected,
       count(*) filter (where f.decision = 'reviewer_right') as reviewer_right,
       count(*) filter (where f.decision = 'worker_right') as worker_right,
       count(*) filter (where f.decision = 'spec_unclear') as spec_unclear,
       count(*) filter (where f.decision = 'open') as open
from facts f
cross join lateral (values ('worker', f.worker), ('reviewer', f.reviewer), ('repo', f.repo))
    as k(scope, name)
where k.name is not null
group by k.scope, k.name
order by k.scope, k.name
