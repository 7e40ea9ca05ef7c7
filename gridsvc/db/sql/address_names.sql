-- The city's own names that place a written address (gridsvc/ops/addresses.py): each street name (name and
-- name_zh) with the point of its segments nearest their middle, units with a name or an address, named compounds
-- and markets with a point inside them. Points in WGS84.
WITH named AS (
  SELECT DISTINCT s.id, n AS name, s.centerline
  FROM streets s, LATERAL unnest(ARRAY[s.name, s.name_zh]) AS n
  WHERE n IS NOT NULL AND btrim(n) <> ''),
street AS (
  SELECT name, min(id) AS id, ST_Collect(centerline) AS g FROM named GROUP BY name)
SELECT 'street' AS kind, id, name, NULL::text AS address, ST_X(p) AS x, ST_Y(p) AS y
FROM street, LATERAL (SELECT ST_ClosestPoint(g, ST_Centroid(g)) AS p) q
UNION ALL
SELECT 'unit', id, name, address, ST_X(geom), ST_Y(geom)
FROM units WHERE name IS NOT NULL OR address IS NOT NULL
UNION ALL
SELECT 'compound', id, name, NULL, ST_X(p), ST_Y(p)
FROM compounds, LATERAL (SELECT ST_PointOnSurface(geom) AS p) q WHERE name IS NOT NULL
UNION ALL
SELECT 'market', id, name, NULL, ST_X(p), ST_Y(p)
FROM markets, LATERAL (SELECT ST_PointOnSurface(geom) AS p) q WHERE name IS NOT NULL
