-- The schema version, or null when agentq was never migrated here.
select case when to_regclass('agentq_migrations') is null then null
            else (select max(version) from agentq_migrations) end as version
