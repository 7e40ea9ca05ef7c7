-- GET /inspections: filtered by unit, grid (15-digit grid or 12-digit community code), inspector (account), party,
-- inspection time, passed and unannounced; newest first.
SELECT i.id, count(*) OVER () AS total
FROM inspections i
WHERE (CAST(:unit AS int) IS NULL OR i.unit_id = :unit)
  AND (CAST(:grids AS text[]) IS NULL OR i.grid_code = ANY(:grids) OR substr(i.grid_code, 1, 12) = ANY(:grids))
  AND (CAST(:inspector AS text) IS NULL OR i.inspector = :inspector)
  AND (CAST(:party AS int) IS NULL OR i.party_id = :party)
  AND (CAST(:since AS timestamptz) IS NULL OR i.inspected_at >= :since)
  AND (CAST(:until AS timestamptz) IS NULL OR i.inspected_at < :until)
  AND (CAST(:passed AS boolean) IS NULL OR i.passed = :passed)
  AND (CAST(:unannounced AS boolean) IS NULL OR i.unannounced = :unannounced)
ORDER BY i.inspected_at DESC, i.id DESC
LIMIT :limit OFFSET :offset
