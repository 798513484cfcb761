-- $1 version, $2 name
insert into agentq_migrations (version, name) values ($1, $2)
