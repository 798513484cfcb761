-- $1 name, $2 role, $3 sha256 of the token, hex. No row: the name is taken.
insert into agents (name, role, token_hash) values ($1, $2::agent_role, decode($3, 'hex'))
on conflict (name) do nothing
returning name, role
