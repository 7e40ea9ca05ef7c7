-- A unit's credit ledger, oldest first.
SELECT id, amount, reason, note, source_key, inspection_id, case_id, actor, at, created_at
FROM credit_entries WHERE unit_id = :unit ORDER BY at, id
