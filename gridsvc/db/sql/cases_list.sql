-- GET /cases: cases filtered by grid (15-digit grid or 12-digit community code), state, overdue (computed now,
-- not by the tick), party, category and report time; "open" = a clock is running or the case waits (not 结案,
-- 作废); ordered by deadline (the running stage's, open cases first) or newest report.
SELECT c.id, count(*) OVER () AS total
FROM cases c
WHERE (CAST(:grids AS text[]) IS NULL OR c.grid_code = ANY(:grids) OR substr(c.grid_code, 1, 12) = ANY(:grids))
  AND (CAST(:states AS text[]) IS NULL OR c.state = ANY(:states))
  AND (CAST(:overdue AS boolean) IS NULL OR (coalesce(c.due_at < :now, false)) = :overdue)
  AND (CAST(:party AS int) IS NULL OR c.party_id = :party)
  AND (CAST(:category AS text) IS NULL OR c.category = :category OR c.category LIKE :category || '__')
  AND (CAST(:since AS timestamptz) IS NULL OR c.reported_at >= :since)
  AND (CAST(:until AS timestamptz) IS NULL OR c.reported_at < :until)
  AND (NOT :open OR c.state NOT IN ('closed', 'void'))
ORDER BY CASE WHEN :order = 'deadline' THEN c.due_at END ASC NULLS LAST,
         CASE WHEN :order = 'deadline' THEN NULL ELSE c.reported_at END DESC, c.id DESC
LIMIT :limit OFFSET :offset
