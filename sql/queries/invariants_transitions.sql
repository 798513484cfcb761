-- Every kind of transition the history holds, for the state machine check.
select distinct from_state, to_state from events where from_state is not null
