SELECT grid_code FROM inspections WHERE id = :i
