INSERT INTO officer_grids (officer_id, grid_code) SELECT :o, unnest(CAST(:c AS text[])) ON CONFLICT DO NOTHING
