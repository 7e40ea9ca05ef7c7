-- A case by id or by code: its state and what it duplicates (reports follow the case a duplicate points at).
SELECT id, code, state, duplicate_of FROM cases
WHERE id = CAST(:i AS bigint) OR code = CAST(:c AS text)
