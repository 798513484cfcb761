-- Transactions committed and rolled back in one database so far (the fleet
-- row's idle statements). Statistics reach this view within about a second.
select xact_commit + xact_rollback
  from pg_stat_database
 where datname = $1
