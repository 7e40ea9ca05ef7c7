-- units.rating / rated_at = the board of each unit's latest rating of period kind :kind (the override if any, NULL
-- for 'none'); :unit limits it to one unit. Only rows that change are written.
UPDATE units u SET rating = r.board, rated_at = r.at
FROM (SELECT DISTINCT ON (unit_id) unit_id, nullif(coalesce(override_board, board), 'none') AS board,
             greatest(computed_at, override_at) AS at
      FROM unit_ratings
      WHERE period_kind = :kind AND (CAST(:unit AS integer) IS NULL OR unit_id = :unit)
      ORDER BY unit_id, period_start DESC) r
WHERE r.unit_id = u.id AND (u.rating IS DISTINCT FROM r.board OR u.rated_at IS DISTINCT FROM r.at)
