-- How much of a geometry (m²) lies outside the managed area (the union of the grid cells it touches).
-- Overlay only, no ST_Intersects (see zone_overlaps.sql).
WITH g AS (SELECT ST_GeomFromWKB(:wkb, 4326) AS geom)
SELECT EXISTS (SELECT 1 FROM grid_cells) AS has_grid,
       coalesce(ST_Area(ST_Difference(g.geom, (SELECT ST_Union(c.geom) FROM grid_cells c
                                                WHERE c.geom && g.geom))::geography),
                ST_Area(g.geom::geography)) AS outside_m2
FROM g
