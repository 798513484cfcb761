select to_regclass('agentq_migrations') is not null as present
