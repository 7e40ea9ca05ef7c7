SELECT seq, action, from_state, to_state, actor, role, at, note, photos, data
FROM case_events
WHERE case_id = :i
ORDER BY seq
