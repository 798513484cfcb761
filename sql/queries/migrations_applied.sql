select version from agentq_migrations order by version
