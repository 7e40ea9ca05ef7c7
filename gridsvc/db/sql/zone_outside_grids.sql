-- How much of a geometry (m²) lies outside the grid cells of the given grid (15-digit) or community (12-digit) codes.
WITH g AS (SELECT ST_GeomFromWKB(:wkb, 4326) AS geom)
SELECT coalesce(ST_Area(ST_Difference(g.geom, (SELECT ST_Union(c.geom) FROM grid_cells c
                                                WHERE (c.code = ANY(:codes) OR substr(c.code, 1, 12) = ANY(:codes))
                                                  AND c.geom && g.geom))::geography),
                ST_Area(g.geom::geography)) AS outside_m2
FROM g
