-- Possible duplicates of a report at a point: open cases (not 结案/作废, not themselves duplicates) of the same
-- category within :r metres, reported since :since; nearest first, then newest; at most :limit. :deg is a bounding
-- box half-width in degrees holding the circle (the spatial index's prefilter).
WITH p AS (SELECT ST_SetSRID(ST_MakePoint(:lng, :lat), 4326) AS g)
SELECT c.id, c.code, c.category, c.state, c.description, c.reported_at, c.grid_code,
       round(CAST(ST_Distance(CAST(c.geom AS geography), CAST(p.g AS geography)) AS numeric), 1) AS distance_m,
       (SELECT count(*) FROM reports r WHERE r.case_id = c.id) AS reporters
FROM cases c, p
WHERE c.geom && ST_Expand(p.g, :deg)
  AND ST_DWithin(CAST(c.geom AS geography), CAST(p.g AS geography), :r)
  AND c.category = :category
  AND c.reported_at >= :since
  AND c.state NOT IN ('closed', 'void')
  AND c.duplicate_of IS NULL
ORDER BY distance_m, c.reported_at DESC, c.id DESC
LIMIT :limit
