-- 责任牌 coverage per grid: shops (units, by the grid cell they lie in) and the state of their boards (each unit's
-- latest duty_boards row: hung or replaced counts as hung).
WITH b AS (SELECT DISTINCT ON (unit_id) unit_id, status FROM duty_boards ORDER BY unit_id, at DESC, id DESC)
SELECT g.code AS key, g.code AS name, count(*) AS shops,
       count(*) FILTER (WHERE b.status IN ('hung', 'replaced')) AS hung,
       count(*) FILTER (WHERE b.status = 'missing') AS missing,
       count(*) FILTER (WHERE b.status = 'damaged') AS damaged,
       count(*) FILTER (WHERE b.status IS NULL) AS unrecorded
FROM units u
LEFT JOIN b ON b.unit_id = u.id
LEFT JOIN feature_cells fc ON fc.layer = 'units' AND fc.feature_id = u.id
LEFT JOIN grid_cells g ON g.h3 = fc.h3
GROUP BY g.code
ORDER BY g.code NULLS LAST
