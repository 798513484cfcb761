-- $1 name, $2 url, $3 base_branch. No row: the name is taken.
insert into repos (name, url, base_branch) values ($1, $2, $3)
on conflict (name) do nothing
returning agentq_repo_json(repos) as repo
