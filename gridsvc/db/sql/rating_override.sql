-- Set (or, with :board NULL, clear) the hand override of one rating row.
UPDATE unit_ratings SET override_board = :board, override_reason = :reason,
       override_by = CASE WHEN CAST(:board AS text) IS NULL THEN NULL ELSE :actor END,
       override_at = CASE WHEN CAST(:board AS text) IS NULL THEN NULL ELSE :now END
WHERE id = :id
RETURNING version
