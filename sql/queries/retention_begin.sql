-- The first statement of a retention batch's transaction: it must never
-- hold locks long or wait long behind a claimer (lock_timeout: a row some
-- other transaction holds makes the batch give up and roll back, to be
-- tried again on the next run; statement_timeout bounds the batch), and it
-- may delete from the append-only history (agentq.retention, read by the
-- trigger of sql/migrations/0004_retention.sql). All three end with the
-- transaction (set_config's third argument: local).
-- $1 lock_timeout in ms, $2 statement_timeout in ms
select set_config('lock_timeout', $1::integer::text || 'ms', true),
       set_config('statement_timeout', $2::integer::text || 'ms', true),
       set_config('agentq.retention', 'on', true)
