-- Merges recorded at least $1 seconds ago and still pending: the merger's
-- backstop after a crash. $1 min age in seconds, $2 limit, $3 now
select m.id from merges m
where m.status = 'pending'
  and m.created_at <= coalesce($3::timestamptz, now()) - make_interval(secs => $1::integer)
order by m.id limit $2
