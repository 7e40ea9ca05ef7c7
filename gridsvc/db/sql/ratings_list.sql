-- The ratings of a period with their units and grid codes; filters: :grid (a grid code or a 12-digit community
-- prefix), :board (the effective board). Paged; total in every row.
SELECT r.unit_id, u.name, g.code AS grid_code, r.period_kind, r.period, r.board, r.because, r.metrics,
       r.computed_at, r.override_board, r.override_reason, r.override_by, r.override_at,
       coalesce(r.override_board, r.board) AS effective, r.version, count(*) OVER () AS total
FROM unit_ratings r
JOIN units u ON u.id = r.unit_id
LEFT JOIN feature_cells fc ON fc.layer = 'units' AND fc.feature_id = u.id
LEFT JOIN grid_cells g ON g.h3 = fc.h3
WHERE r.period_kind = :kind AND r.period = :period
  AND (CAST(:grid AS text) IS NULL OR g.code LIKE :grid || '%')
  AND (CAST(:board AS text) IS NULL OR coalesce(r.override_board, r.board) = :board)
  AND (CAST(:unit AS integer) IS NULL OR r.unit_id = :unit)
ORDER BY r.unit_id
LIMIT :limit OFFSET :offset
