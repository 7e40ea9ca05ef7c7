-- Units with their public code, rating, grid code and first grid officer; $where: fixed SQL on bound parameters.
SELECT u.id, u.name, u.category, u.address, u.contact, u.phone, u.building_id, u.public_code, u.rating,
       cr.balance AS credit_points, u.rated_at, g.code AS grid_code, o.name AS officer_name, o.phone AS officer_phone,
       ST_AsBinary(u.geom) AS geom
FROM units u
LEFT JOIN unit_credit cr ON cr.unit_id = u.id
LEFT JOIN feature_cells fc ON fc.layer = 'units' AND fc.feature_id = u.id
LEFT JOIN grid_cells g ON g.h3 = fc.h3
LEFT JOIN LATERAL (SELECT o.name, o.phone FROM officer_grids og JOIN officers o ON o.id = og.officer_id
                   WHERE og.grid_code = g.code ORDER BY o.id LIMIT 1) o ON true
$where
ORDER BY u.id
