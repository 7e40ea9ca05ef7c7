SELECT count(*) FROM grid_cells
