-- The notifier's liveness probe on its LISTEN connection.
select 1
