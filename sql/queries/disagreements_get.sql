-- $1 id
select agentq_disagreement_json(d) as disagreement from disagreements d where d.id = $1
