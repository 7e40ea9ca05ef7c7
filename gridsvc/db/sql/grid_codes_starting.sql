SELECT code FROM grid_cells WHERE code LIKE :p ORDER BY code
