-- The newest event's id (0: none yet): where a follower of the history starts.
select coalesce(max(id), 0) from events
