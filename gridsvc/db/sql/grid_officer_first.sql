SELECT o.id, o.name
FROM officers o
JOIN officer_grids og ON og.officer_id = o.id
WHERE og.grid_code = :g
ORDER BY o.id LIMIT 1
