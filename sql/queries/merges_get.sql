-- A merge with what the merger needs to land it. $1 merge id
select m.id, m.task_id, m.status, m.commit, m.merge_commit, m.detail,
       r.id as repo_id, r.name as repo_name, r.url as repo_url, r.base_branch,
       t.title, s.branch, a.name as worker
from merges m
join repos r on r.id = m.repo_id
join tasks t on t.id = m.task_id
join submissions s on s.id = m.submission_id
join agents a on a.id = s.agent_id
where m.id = $1
