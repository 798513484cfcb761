-- The merge an approval with this token recorded, if any (a retried approve
-- call finds its merge here). $1 task id, $2 token
select m.id from merges m join reviews r on r.submission_id = m.submission_id
where m.task_id = $1 and r.token = $2 and r.verdict = 'approve'
