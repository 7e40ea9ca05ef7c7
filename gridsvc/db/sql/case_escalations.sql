SELECT id, stage, level, level_code, issued_at, due_at, notify, to_whom, reason
FROM escalations
WHERE case_id = :i
ORDER BY id
