-- The schema version; run only when migrations_table_exists says so.
select max(version) as version from agentq_migrations
