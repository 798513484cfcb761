-- Bench report: the server settings that decide what a commit costs, in
-- their display units (256MB, not 32768 pages).
select name, current_setting(name) from pg_settings
where name in ('server_version', 'fsync', 'synchronous_commit', 'full_page_writes',
               'wal_sync_method', 'shared_buffers', 'max_wal_size', 'commit_delay')
order by name
