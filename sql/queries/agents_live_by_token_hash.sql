-- $1 text[] of hex sha256 token hashes. The live (not revoked) agents among
-- them, with their hashes: the auth cache's refresh, one statement for all.
select encode(token_hash, 'hex') as token_hash, id, name, role
  from agents
 where token_hash = any (select decode(h, 'hex') from unnest($1::text[]) as h)
   and revoked_at is null
