-- Open311 address_string: the project's own places whose name (or a unit's address) occurs in the text, longest
-- name first (units, compounds, markets, streets); each with a point inside it. No external geocoder.
SELECT kind, name, ST_X(p) AS lng, ST_Y(p) AS lat
FROM (
  SELECT 'unit' AS kind, u.name, u.geom AS p, 1 AS pri FROM units u
   WHERE length(u.name) >= 2 AND strpos(:a, u.name) > 0
  UNION ALL
  SELECT 'unit', u.address, u.geom, 1 FROM units u
   WHERE length(u.address) >= 4 AND strpos(:a, u.address) > 0
  UNION ALL
  SELECT 'compound', c.name, ST_PointOnSurface(c.geom), 2 FROM compounds c
   WHERE length(c.name) >= 2 AND strpos(:a, c.name) > 0
  UNION ALL
  SELECT 'market', m.name, ST_PointOnSurface(m.geom), 2 FROM markets m
   WHERE length(m.name) >= 2 AND strpos(:a, m.name) > 0
  UNION ALL
  SELECT 'street', coalesce(s.name_zh, s.name), ST_PointOnSurface(s.geom), 3 FROM streets s
   WHERE length(coalesce(s.name_zh, s.name)) >= 2 AND strpos(:a, coalesce(s.name_zh, s.name)) > 0
) found
ORDER BY length(name) DESC, pri, name
LIMIT 20
