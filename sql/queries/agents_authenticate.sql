-- $1 sha256 of a bearer token, hex
select id, name, role from agents where token_hash = decode($1, 'hex') and revoked_at is null
