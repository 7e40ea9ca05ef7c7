-- Whether a unit's point lies outside the grid cells of the given grid (15-digit) or community (12-digit) codes.
SELECT NOT EXISTS (SELECT 1 FROM grid_cells c
                   WHERE (c.code = ANY(:codes) OR substr(c.code, 1, 12) = ANY(:codes))
                     AND ST_Intersects(c.geom, u.geom)) AS outside
FROM units u WHERE u.id = :id
