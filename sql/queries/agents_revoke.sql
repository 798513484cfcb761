-- $1 name. No row: no such agent, or revoked already.
update agents set revoked_at = now() where name = $1 and revoked_at is null returning name
