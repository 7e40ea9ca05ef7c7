-- Grid code and first officer of H3 cells (a zone's grid is the cell holding its point on surface).
SELECT g.h3, g.code AS grid_code, o.name AS officer_name, o.phone AS officer_phone
FROM grid_cells g
LEFT JOIN LATERAL (SELECT o.name, o.phone FROM officer_grids og JOIN officers o ON o.id = og.officer_id
                   WHERE og.grid_code = g.code ORDER BY o.id LIMIT 1) o ON true
WHERE g.h3 = ANY(:cells)
