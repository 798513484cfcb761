-- $1 task id
select state from tasks where id = $1
