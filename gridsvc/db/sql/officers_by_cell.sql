-- The first officer of each grid cell, keyed by H3 index.
SELECT DISTINCT ON (g.h3) g.h3, o.name, o.phone
FROM grid_cells g JOIN officer_grids og ON og.grid_code = g.code JOIN officers o ON o.id = og.officer_id
ORDER BY g.h3, o.id
