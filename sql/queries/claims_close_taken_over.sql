-- A claim that took over expired claims ($1, their tokens) closes them as
-- 'expired', in its own transaction right after the claim statement. The
-- statement's expired_claims CTE closes those it can see; a claims row whose
-- claim committed after that statement's snapshot was taken (claims of
-- different tasks run at once, docs/design.md §2) is invisible to it, and
-- this second statement, with a fresh snapshot, closes it. $2 now (null: the
-- database's clock, the same transaction timestamp the claim used).
update claims set ended_at = coalesce($2::timestamptz, now()), outcome = 'expired'
where token = any($1::bigint[]) and ended_at is null
