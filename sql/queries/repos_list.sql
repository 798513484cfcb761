select agentq_repo_json(r) as repo from repos r order by r.name
