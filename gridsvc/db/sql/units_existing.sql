SELECT id FROM units WHERE id = ANY(:ids)
