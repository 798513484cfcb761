-- $1 name
select r.id, agentq_repo_json(r) as repo from repos r where r.name = $1
