-- Grid officers (网格员) with the H3 cells of the grids they look after, optionally only cells meeting a bbox.
SELECT o.id AS officer_id, o.name, o.phone, o.party_id,
       array_agg(g.h3 ORDER BY g.code) AS cells, array_agg(g.code ORDER BY g.code) AS grid_codes
FROM officer_grids og
JOIN officers o ON o.id = og.officer_id
JOIN grid_cells g ON g.code = og.grid_code
WHERE CAST(:minx AS float8) IS NULL OR g.geom && ST_MakeEnvelope(:minx, :miny, :maxx, :maxy, 4326)
GROUP BY o.id
ORDER BY o.id
LIMIT :limit
