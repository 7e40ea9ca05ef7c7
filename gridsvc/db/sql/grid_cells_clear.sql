DELETE FROM grid_cells
