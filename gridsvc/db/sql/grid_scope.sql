-- A grid cell by its code: H3 index, outline and community name.
SELECT g.h3, ST_AsBinary(g.geom) AS geom, a.name AS community
FROM grid_cells g LEFT JOIN admin_units a ON a.id = g.community_id WHERE g.code = :c
