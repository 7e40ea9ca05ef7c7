-- The cases opened from inspections' failed items.
SELECT id, code, state, category, inspection_id, inspection_item
FROM cases WHERE inspection_id = ANY(:ids) ORDER BY inspection_id, id
