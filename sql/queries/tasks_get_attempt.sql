-- $1 task id
select attempt from tasks where id = $1
