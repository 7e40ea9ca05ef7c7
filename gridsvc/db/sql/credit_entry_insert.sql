-- One credit entry (a manual one: reason 'manual' with its note; or one generated at once from a record, with its
-- source_key: written once). Returns its id, or nothing when that record's entry exists.
INSERT INTO credit_entries (unit_id, amount, reason, note, source_key, inspection_id, case_id, actor, at)
VALUES (:unit, :amount, :reason, :note, :source, :inspection, :case, :actor, :at)
ON CONFLICT ON CONSTRAINT credit_entry_once DO NOTHING
RETURNING id
