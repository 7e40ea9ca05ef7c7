SELECT code
FROM grid_cells
WHERE ST_Covers(geom, ST_SetSRID(ST_MakePoint(:x, :y), 4326))
ORDER BY code LIMIT 1
