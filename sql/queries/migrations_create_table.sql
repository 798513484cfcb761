create table if not exists agentq_migrations (
    version    integer primary key,
    name       text not null,
    applied_at timestamptz not null default now()
)
