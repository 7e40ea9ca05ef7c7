INSERT INTO case_events (case_id, seq, action, from_state, to_state, actor, role, at, note, photos, data)
SELECT :c, coalesce(max(seq), 0) + 1, :a, :f, :t, :actor, :role, :at, :note, :photos, CAST(:data AS jsonb)
FROM case_events
WHERE case_id = :c
