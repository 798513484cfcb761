-- $1 task id. How often the task was given back without charging an attempt.
select uncharged_releases from tasks where id = $1
