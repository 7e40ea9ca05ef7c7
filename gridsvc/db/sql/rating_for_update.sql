-- One unit's rating of a period, locked for an override.
SELECT id, unit_id, period_kind, period, board, override_board, override_reason, version
FROM unit_ratings WHERE unit_id = :unit AND period_kind = :kind AND period = :period FOR UPDATE
