SELECT DISTINCT coalesce(category, '') FROM units WHERE name IS NULL OR btrim(name) = ''
